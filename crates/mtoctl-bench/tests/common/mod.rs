//! What the benchmark's integration tests share: the harness settings of a quick run.

use mtoctl_bench::checks::QUICK_TIME_SCALE;
use mtoctl_bench::runner::Settings;
use mtoctl_bench::worlds::Apps;

/// Quick-mode settings (fast time scale, one shared app, fixed latency of `latency_ms`)
/// writing under `dir`, with the baseline client run too when `baseline`.
pub fn quick_settings(dir: &std::path::Path, latency_ms: u64, baseline: bool) -> Settings {
    Settings {
        latency_ms,
        lognormal: false,
        time_scale: QUICK_TIME_SCALE,
        apps: Apps::Shared,
        mtoctl: mtoctl_bench::locate_mtoctl(false, false).expect("the mtoctl binary"),
        work_dir: dir.to_path_buf(),
        plan_only: false,
        baseline,
    }
}
