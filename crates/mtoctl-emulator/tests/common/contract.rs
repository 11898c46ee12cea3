//! Every exchange a test's emulator carries out, checked against Microsoft's published Graph
//! v1.0 contract (`mtoctl_contract::log`): the request when its answer was 2xx (a test that
//! sends a bad request on purpose expects a 4xx), every answer; on `beta` only the identity sync
//! policy's path, against the contract's beta overlay, other beta paths left out. The guard fails
//! the test at its end with every distinct finding.

use std::sync::Arc;

use mtoctl_contract::log::{Log, Requests};
use mtoctl_emulator::Options;
use mtoctl_emulator::exchange::{Exchange, Observer};

/// Fails the test that owns it, when dropped, on any finding (unless the test is already
/// failing).
pub struct CheckedOnDrop(pub Arc<Log>);

impl Drop for CheckedOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.0.assert_clean();
        }
    }
}

/// `options` with an observer that checks every exchange, and the guard that reports.
pub fn checked(mut options: Options) -> (CheckedOnDrop, Options) {
    let log = Arc::new(Log::new(Requests::Accepted));
    let for_observer = Arc::clone(&log);
    options.observer = Some(Observer(Arc::new(move |x: &Exchange<'_>| {
        for_observer.check(&mtoctl_contract::log::Exchange {
            version: x.version,
            method: x.method,
            path: x.path,
            body: x.body,
            status: x.status,
            answer: x.answer,
        })
    })));
    (CheckedOnDrop(log), options)
}
