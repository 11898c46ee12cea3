//! The process's limit of open files, raised from its soft value to its hard one at start.
//!
//! Against the emulator (plain HTTP/1.1) every Graph call in flight holds a socket of its own:
//! an apply from scratch of a mesh of twenty tenants has some 900 in flight at its peak, and
//! `--emulator` holds the server's ends in the same process. The soft limit is often 1,024,
//! kept low for `select()`, which nothing here uses. Graph itself is reached over HTTP/2, with
//! one connection for every call.

/// Raises the soft limit of open files to the hard limit, if it is lower. Best effort: where
/// the system refuses (macOS refuses an unlimited value), the limit stays as it was.
#[cfg(unix)]
pub fn raise_open_files() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let lower = match (limit.current, limit.maximum) {
        (Some(current), Some(maximum)) => current < maximum,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if lower {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_err() {
            tracing::debug!(?limit, "the limit of open files stays as it is");
        }
    }
}

/// Nothing to raise: Windows has no such per-process limit on sockets.
#[cfg(not(unix))]
pub fn raise_open_files() {}

#[cfg(all(test, unix))]
mod tests {
    /// After the call, the soft limit is the hard one (or the system kept it, and then it is
    /// unchanged): never lower than before.
    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        use rustix::process::{Resource, getrlimit};
        let before = getrlimit(Resource::Nofile);
        super::raise_open_files();
        let after = getrlimit(Resource::Nofile);
        assert_eq!(after.maximum, before.maximum);
        match (before.current, after.current) {
            (Some(b), Some(a)) => assert!(a >= b, "{before:?} → {after:?}"),
            (_, None) => {}
            (None, Some(_)) => panic!("an unlimited soft limit was lowered"),
        }
        assert!(
            after.current == after.maximum || after.current == before.current,
            "{before:?} → {after:?}"
        );
    }
}
