//! Every request an end-to-end test's emulator carries out, and every answer it gives, checked
//! against Microsoft's published Graph v1.0 contract (`mtoctl_contract::log`): every request
//! (mtoctl's must conform even when refused), every answer. The guard fails the test at its end
//! with every distinct finding.

use std::sync::Arc;

use mtoctl_contract::log::{Log, Requests};
use mtoctl_emulator::exchange::{Exchange, Observer};

/// Fails the test that owns it, when dropped, on any finding of the log (unless the test is
/// already failing).
pub struct CheckedOnDrop(pub Arc<Log>);

impl Drop for CheckedOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.0.assert_clean();
        }
    }
}

/// The emulator of `world` with `options`, every exchange checked against Graph's contract
/// when the returned guard is dropped.
pub async fn serve_checked(
    world: &str,
    mut options: mtoctl_emulator::Options,
) -> (CheckedOnDrop, mtoctl_emulator::Server) {
    let log = Arc::new(Log::new(Requests::All));
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
    let world = mtoctl_emulator::world::WorldFile::parse(world).expect("parses");
    let emulator = mtoctl_emulator::Emulator::from_world(world, options).expect("loads");
    (
        CheckedOnDrop(log),
        emulator.spawn_on_loopback().await.expect("serves"),
    )
}
