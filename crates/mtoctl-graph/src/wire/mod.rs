//! Graph's JSON, typed: the exact camelCase property names of the wire reference, unknown
//! fields ignored, enum values kept when unknown. `mto`, `policy`, `sync` and `directory` turn
//! wire objects into the domain types of `mtoctl_model::observed`; `reads` and `writes` build
//! the executor's requests, `answers` and `observe` decode what they get back.

pub mod answers;
pub mod directory;
pub mod mto;
pub mod observe;
pub mod policy;
pub mod reads;
pub mod skus;
pub mod sync;
pub mod writes;

use mtoctl_model::ids::{Guid, TenantId};
use mtoctl_model::observed::Known;
use serde::de::DeserializeOwned;

/// An enum value from its wire text: known if it names a variant, kept verbatim otherwise.
pub fn known<T: DeserializeOwned>(text: &str) -> Known<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map(Known::Known)
        .unwrap_or_else(|_| Known::Unknown(text.to_owned()))
}

/// [`known`] for an optional value.
pub fn known_opt<T: DeserializeOwned>(text: Option<&str>) -> Option<Known<T>> {
    text.map(known)
}

/// A tenant id from the wire; the all-zero GUID (Graph's "none") is `None`.
pub fn tenant_id(text: Option<&str>) -> Option<TenantId> {
    let guid = Guid::parse(text?)?;
    (!guid.is_nil()).then_some(TenantId(guid))
}

/// Quotes a value for an OData string literal (`'` doubled).
pub fn odata_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Percent-encodes a query value (spaces as `%20`, never `+`, which OData does not read as a
/// space).
pub fn encode_query_value(value: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')')
        .remove(b',')
        .remove(b'@');
    percent_encoding::utf8_percent_encode(value, SET).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtoctl_model::observed::MemberRole;

    #[test]
    fn unknown_enum_values_are_kept() {
        assert_eq!(
            known::<MemberRole>("owner"),
            Known::Known(MemberRole::Owner)
        );
        assert_eq!(
            known::<MemberRole>("unknownFutureValue"),
            Known::Unknown("unknownFutureValue".into())
        );
    }

    #[test]
    fn zero_guid_is_none() {
        assert_eq!(
            tenant_id(Some("00000000-0000-0000-0000-000000000000")),
            None
        );
        assert!(tenant_id(Some("6babcaad-604b-40ac-a9d7-9fd97c0b779f")).is_some());
        assert_eq!(tenant_id(None), None);
    }

    #[test]
    fn quoting_and_encoding() {
        assert_eq!(odata_quote("O'Brien"), "'O''Brien'");
        assert_eq!(
            encode_query_value("userPrincipalName in ('a@b.com','c d')"),
            "userPrincipalName%20in%20('a@b.com','c%20d')"
        );
        assert_eq!(encode_query_value("a&b=c#d+e"), "a%26b%3Dc%23d%2Be");
    }
}
