//! OData query options: URL decoding, `$filter` (eq, ne, in, startswith,
//! endswith, and, or, not; contains, tolower, gt, lt and `$orderby` where a collection
//! documents them), `$select`, `$top`, `$count` and opaque `$skiptoken` paging with absolute
//! `@odata.nextLink`s.
//!
//! `encoding` decodes URLs, `query` parses the options, `filter` parses and evaluates
//! `$filter`, `project` builds and cuts entities down to what is selected, and `page` makes a
//! collection's answer.

mod encoding;
mod filter;
mod page;
mod project;
mod query;

pub use encoding::{parse_query, percent_decode, percent_encode};
pub use filter::{Case, Expr, Rel, compare, parse_filter};
pub use page::{PageSpec, page, page_text};
pub use project::{Props, project};
pub use query::{Dialect, QueryOptions};
