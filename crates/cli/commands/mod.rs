//! One module per subcommand.

pub mod apply;
pub mod completions;
pub mod doctor;
pub mod export;
pub mod export_diff;
pub mod permissions;
pub mod plan;
pub mod schema;
pub mod show;
pub mod status;
pub mod sync;
pub mod trace;
pub mod validate;
