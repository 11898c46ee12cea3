//! Every Graph request the emulator carries out, with its answer, handed to an observer
//! ([`Options::observer`](crate::core::Options::observer)): how tests check a client's requests
//! and the emulator's own answers against Microsoft's published contract. `$batch` items are
//! observed one by one; the envelope is not. Requests refused before they are carried out (a bad
//! token, an injected fault, a body that is not JSON) are not observed.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

/// One Graph request carried out, and its answer.
#[derive(Debug)]
pub struct Exchange<'a> {
    /// `v1.0` or `beta`.
    pub version: &'a str,
    /// The caller's tenant id.
    pub tenant: &'a str,
    /// Upper-case method.
    pub method: &'a str,
    /// Path after the version with its query, as sent (`/users?$filter=...`).
    pub path: &'a str,
    /// The request's JSON body.
    pub body: Option<&'a Value>,
    /// The answer's status.
    pub status: u16,
    /// The answer's JSON body.
    pub answer: Option<&'a Value>,
}

/// A function called with every [`Exchange`], while the emulator's lock is held: keep it short.
#[derive(Clone)]
pub struct Observer(pub Arc<dyn Fn(&Exchange<'_>) + Send + Sync>);

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Observer")
    }
}
