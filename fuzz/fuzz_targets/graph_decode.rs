//! Graph's JSON as a hostile tenant (or anyone between it and us) could send it, through every
//! decoder `collect` and the executor use: the typed wire objects of `mtoctl_graph::wire` and
//! their `observe` into the domain types, the executor's `decode_*` helpers on raw bodies, the
//! schema editor, and the `Retry-After` parser. Collections are decoded item by item as
//! `collect` does (`value` arrays). Nothing may panic; malformed input is an `Err` or `None`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = mtoctl_graph::transport::retry::parse_retry_after(Some(text));
    }
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    mtoctl_graph::fuzzing::decode_everything(&value);
});
