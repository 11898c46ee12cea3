//! The baseline client (`mtoctl_bench::baseline`) on small worlds: its apply from scratch
//! converges — afterwards `mtoctl plan --detailed-exitcode` finds nothing to do, the check
//! mtoctl's own apply passes in the harness (`runner::run_baseline` fails otherwise) — and it
//! sends what a Terraform-style client sends: one request per resource and no `$batch`, one
//! lookup per principal, at most 10 requests in flight. Its no-op plan writes nothing and
//! reads each resource once.
//!
//! Needs the `mtoctl` binary of the same profile (`cargo test --workspace` builds it; alone:
//! `cargo build --bin mtoctl` first).

mod common;

use mtoctl_bench::baseline::flow;
use mtoctl_bench::runner::{Settings, run_baseline};
use mtoctl_bench::scenario::{self, Scenario, Shape};
use mtoctl_bench::worlds::{self, Apps};

/// Terraform's default parallelism, which the baseline must use (not the crate's constant, so
/// that changing it fails here).
const TERRAFORM_PARALLELISM: u64 = 10;

/// A small latency, so that requests overlap and the parallelism shows in the emulator's peak
/// of requests in flight (it also turns on the emulator's service times: a few seconds).
const LATENCY_MS: u64 = 20;

fn settings(dir: &std::path::Path) -> Settings {
    common::quick_settings(dir, LATENCY_MS, true)
}

/// B1 with 20 users each way, and a hub of 4 tenants scoped by groups (B4g's shape, small).
fn worlds() -> Vec<Scenario> {
    let b1 = scenario::by_name("B1").expect("B1").scaled(0.08);
    let groups = Scenario {
        name: "B4g-small".into(),
        shape: Shape::Hub {
            tenants: 4,
            per_spoke: 2,
            per_hub: 3,
        },
        group_members: Some(3),
        full_size: false,
    };
    vec![b1, groups]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_baseline_converges_with_one_request_per_resource() {
    let dir = std::env::temp_dir().join(format!("mtoctl-bench-baseline-{}", std::process::id()));
    let settings = settings(&dir);
    for sc in worlds() {
        let layout = worlds::layout(&sc, Apps::Shared);
        let run = run_baseline(&sc, 1, &settings)
            .await
            .unwrap_or_else(|e| panic!("{}: {e:#}", sc.name));
        let phases: Vec<&str> = run.phases.iter().map(|r| r.phase.as_str()).collect();
        assert_eq!(phases, ["baseline_apply_scratch", "baseline_plan_noop"]);
        let (apply, plan) = (&run.phases[0], &run.phases[1]);

        let t = layout.tenants.len() as u64;
        let s = layout.syncs.len() as u64;
        let a: u64 = layout.syncs.iter().map(|x| x.principals.len() as u64).sum();
        let names = flow::lookups(&layout).len() as u64;
        let mut partners = std::collections::BTreeSet::new();
        let mut identity = std::collections::BTreeSet::new();
        for x in &layout.syncs {
            partners.extend([(x.tgt, x.src), (x.src, x.tgt)]);
            identity.insert((x.tgt, x.src));
        }
        let (partners, identity) = (partners.len() as u64, identity.len() as u64);

        // No `$batch`: every HTTP call but the tokens is one Graph request, and the emulator
        // received exactly what the client says it sent.
        let sent = run.apply_sent;
        assert_eq!(sent.tokens, t, "{}: one token per tenant", sc.name);
        assert_eq!(apply.http_calls, sent.requests + sent.tokens, "{}", sc.name);
        assert_eq!(
            apply.inner_requests, sent.requests,
            "{}: a $batch call",
            sc.name
        );
        // One lookup per principal, one POST per assignment.
        assert_eq!(sent.lookups, names, "{}", sc.name);
        assert_eq!(sent.assignments, a, "{}", sc.name);
        // One write per resource: templates (2 per tenant), the organization, each member and
        // its join, six per configuration (instantiate, credentials, job, secrets, schema,
        // start) and the assignments; the joins made the partner configurations and identity
        // sync policies from the templates, so those are read, not written.
        let writes = 2 * t + 1 + 2 * (t - 1) + 6 * s + a;
        assert_eq!(apply.writes, writes, "{}: writes charged", sc.name);
        assert_eq!(sent.writes, writes, "{}: writes sent", sc.name);
        assert_eq!(sent.retries, 0, "{}", sc.name);
        // Reads: the lookups, the partner and identity sync checks, each schema, and the polls
        // of the organization (at least one) and of each join (at least one).
        assert!(
            sent.requests >= writes + names + partners + identity + s + 1 + (t - 1),
            "{}: {} requests",
            sc.name,
            sent.requests
        );
        // Terraform's parallelism: never more than 10 requests in flight, and 10 when there is
        // enough to do (B1's 40 lookups), so the baseline is not a sequential strawman either.
        assert!(
            apply.peak_in_flight <= TERRAFORM_PARALLELISM,
            "{}: {} in flight",
            sc.name,
            apply.peak_in_flight
        );
        if sc.name.starts_with("B1") {
            assert_eq!(apply.peak_in_flight, TERRAFORM_PARALLELISM, "{}", sc.name);
        }

        // The no-op plan: no write, one read per resource in the state and per data source.
        let read = run.plan_sent;
        assert_eq!(plan.writes, 0, "{}", sc.name);
        assert_eq!(read.lookups, names, "{}", sc.name);
        assert_eq!(
            read.requests,
            2 * t + 1 + 2 * (t - 1) + partners + identity + 3 * s + a + names,
            "{}",
            sc.name
        );
        assert_eq!(plan.inner_requests, read.requests, "{}", sc.name);
        assert!(plan.peak_in_flight <= TERRAFORM_PARALLELISM, "{}", sc.name);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
