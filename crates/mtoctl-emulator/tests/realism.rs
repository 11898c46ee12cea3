//! Realism knobs over HTTP: throttling, injected faults, latency, replication
//! lag, time scaling, persistence and the admin API.

mod common;

use std::time::Instant;

use common::*;
use mtoctl_emulator::{Latency, Options};
use serde_json::{Value, json};

const MTO: &str = "/tenantRelationships/multiTenantOrganization";

#[tokio::test]
async fn throttling_model_with_batches_retry_after_and_early_retries() {
    let env = start_with(
        WORLD,
        Options {
            throttle: true,
            ..Options::default()
        },
    )
    .await;
    let a = env.a().await;
    let r = env.get(&a, "/users").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-ms-resource-unit").as_deref(), Some("2"));
    assert_eq!(
        env.get(&a, "/users?$select=id")
            .await
            .header("x-ms-resource-unit")
            .as_deref(),
        Some("1")
    );

    // Contoso is a small tenant: 3,500 RU per 10 s for this app. GET /users costs 2.
    let batch: Vec<Value> = (0..20)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/users"}))
        .collect();
    let mut throttled_item = None;
    let mut warned = false;
    for _ in 0..90 {
        let r = env
            .call(&a, "POST", "/$batch", Some(json!({"requests": batch})))
            .await;
        assert_eq!(r.status, 200, "the envelope is never throttled");
        // Above 80 % use, successful items carry the limit percentage.
        warned |= r.body["responses"].as_array().unwrap().iter().any(|x| {
            x["status"] == 200
                && x["headers"]["x-ms-throttle-limit-percentage"]
                    .as_str()
                    .and_then(|p| p.parse::<f64>().ok())
                    .is_some_and(|p| (0.8..=1.8).contains(&p))
        });
        if let Some(t) = r.body["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["status"] == 429)
        {
            throttled_item = Some(t.clone());
            break;
        }
    }
    let t = throttled_item.expect("the bucket runs dry within 90 batches");
    assert!(
        warned,
        "x-ms-throttle-limit-percentage seen before the first 429"
    );
    assert_eq!(t["body"]["error"]["code"], "TooManyRequests");
    assert_eq!(t["body"]["error"]["innerError"]["status"], "429");
    let retry: f64 = t["headers"]["Retry-After"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1.0);
    assert!(
        t["headers"]["x-ms-throttle-scope"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Tenant_Application/ReadWrite/{A_APP}/{A}"))
    );
    assert_eq!(
        t["headers"]["x-ms-throttle-information"],
        "ResourceUnitLimitExceeded"
    );

    // Hammering before Retry-After elapses is counted and still charged.
    let r = env.get(&a, "/users").await;
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    let s = env.admin("GET", "stats", None).await.body;
    assert!(s["throttled"].as_u64().unwrap() >= 2);
    assert!(s["early_retries"].as_u64().unwrap() >= 1);
    assert_eq!(s["per_tenant"][A]["early_retries"], s["early_retries"]);

    // Fabrikam's bucket is separate.
    let b = env.b().await;
    assert_eq!(env.get(&b, "/users").await.status, 200);

    // After the window refills, requests are admitted again.
    env.advance(30.0).await;
    let r = env.get(&a, "/users").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn queued_and_random_faults() {
    let env = start().await;
    let a = env.a().await;
    let r = env
        .admin("POST", "faults", Some(json!({"queue": [{"tooManyRequests": {"retryAfter": 2}}, "serviceUnavailable", "connectionReset"]})))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = env.get(&a, MTO).await;
    assert_eq!((r.status, r.code()), (429, "TooManyRequests"));
    assert_eq!(r.header("retry-after").as_deref(), Some("2"));
    let r = env.get(&a, MTO).await;
    assert_eq!((r.status, r.code()), (503, "serviceNotAvailable"));
    // The reset breaks the response body mid-flight.
    let res = env
        .client
        .get(format!("{}/v1.0{MTO}", env.base))
        .bearer_auth(&a)
        .send()
        .await;
    let broken = match res {
        Err(_) => true,
        Ok(r) => r.text().await.is_err(),
    };
    assert!(broken, "connection reset must surface as a transport error");
    assert_eq!(env.get(&a, MTO).await.status, 200);
    let s = env.admin("GET", "stats", None).await.body;
    assert_eq!(s["faults_injected"], 3);
    assert_eq!(
        s["early_retries"], 3,
        "the clock is frozen: all three later requests came before the 2 s elapsed"
    );

    // A seeded random fault rate is deterministic.
    let mut runs = Vec::new();
    for _ in 0..2 {
        let env = start_with(
            WORLD,
            Options {
                fault_rate: 0.3,
                seed: Some(9),
                ..Options::default()
            },
        )
        .await;
        let a = env.a().await;
        let mut statuses = Vec::new();
        for _ in 0..30 {
            let r = env
                .client
                .get(format!("{}/v1.0/users?$select=id", env.base))
                .bearer_auth(&a)
                .send()
                .await;
            statuses.push(match r {
                Ok(r) => {
                    let s = r.status().as_u16();
                    if r.text().await.is_err() { 0 } else { s }
                }
                Err(_) => 0,
            });
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].iter().any(|s| *s != 200), "{:?}", runs[0]);
    assert!(runs[0].iter().filter(|s| **s == 200).count() >= 10);
}

#[tokio::test]
async fn fixed_latency_is_applied() {
    let env = start_with(
        WORLD,
        Options {
            latency: Latency::Fixed(120),
            ..Options::default()
        },
    )
    .await;
    let a = env.a().await;
    let t = Instant::now();
    assert_eq!(env.get(&a, MTO).await.status, 200);
    assert!(t.elapsed().as_millis() >= 120);
}

#[tokio::test]
async fn replication_lag_hides_new_objects() {
    let world = WORLD.replace("seed: 42", "seed: 42\ntimings:\n  replicationLag: 10");
    let env = start_with(&world, Options::default()).await;
    let a = env.a().await;
    let r = env
        .call(
            &a,
            "POST",
            &format!("/applicationTemplates/{SYNC_TEMPLATE}/instantiate"),
            Some(json!({"displayName": "MTO_Sync_x"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let sp = r.body["servicePrincipal"]["id"].as_str().unwrap();
    let g = env.get(&a, &format!("/servicePrincipals/{sp}")).await;
    assert_eq!((g.status, g.code()), (404, "Request_ResourceNotFound"));
    assert_eq!(
        env.get(&a, "/servicePrincipals").await.body["value"],
        json!([])
    );
    env.advance(10.0).await;
    assert_eq!(
        env.get(&a, &format!("/servicePrincipals/{sp}"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn time_scale_shrinks_mto_timers() {
    let env = start_with(
        WORLD,
        Options {
            time_scale: 0.01,
            ..Options::default()
        },
    )
    .await;
    let (a, b) = (env.a().await, env.b().await);
    env.call(&a, "PUT", MTO, Some(json!({"displayName": "G"})))
        .await;
    env.call(
        &a,
        "POST",
        &format!("{MTO}/tenants"),
        Some(json!({"tenantId": B, "displayName": "Fabrikam"})),
    )
    .await;
    env.call(
        &b,
        "PATCH",
        &format!("{MTO}/joinRequest"),
        Some(json!({"addedByTenantId": A})),
    )
    .await;
    env.advance(5.0).await;
    assert_eq!(
        env.get(&b, &format!("{MTO}/joinRequest")).await.body["memberState"],
        "pending"
    );
    env.advance(1.1).await;
    assert_eq!(
        env.get(&b, &format!("{MTO}/joinRequest")).await.body["memberState"],
        "active"
    );
}

#[tokio::test]
async fn state_file_survives_restart() {
    let dir = std::env::temp_dir().join(format!("mtoctl-emu-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.json");
    let _ = std::fs::remove_file(&path);
    {
        let env = start_with(
            WORLD,
            Options {
                state_file: Some(path.clone()),
                ..Options::default()
            },
        )
        .await;
        let a = env.a().await;
        assert_eq!(
            env.call(&a, "PUT", MTO, Some(json!({"displayName": "Persisted"})))
                .await
                .status,
            201
        );
        env.advance(120.0).await;
        env.server.handle.abort();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let _: Value = serde_json::from_str(&text).expect("valid JSON");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temp files left behind");

    let state = mtoctl_emulator::persist::load(&path).unwrap();
    let (contract, options) = contract::checked(Options::default());
    let emu = mtoctl_emulator::Emulator::from_state(state, options);
    let env = serve(emu, contract).await;
    let a = env.a().await;
    let r = env.get(&a, MTO).await;
    assert_eq!(r.body["displayName"], "Persisted");
    // The virtual clock resumes where it stopped.
    let now = env.admin("GET", "state", None).await.body["now"].clone();
    assert_eq!(now, "2026-01-01T00:02:00Z");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn admin_state_advance_and_stats() {
    let env = start().await;
    let s = env.admin("GET", "state", None).await.body;
    assert_eq!(s["now"], "2026-01-01T00:00:00Z");
    assert!(s["tenants"][A]["users"].as_array().unwrap().len() >= 4);
    assert!(
        s.get("signingKey").is_none(),
        "the token key is not exposed"
    );
    assert_eq!(
        env.admin("POST", "advance", Some(json!({"seconds": -1})))
            .await
            .status,
        400
    );
    assert_eq!(
        env.admin("POST", "advance", Some(json!({"minutes": 1})))
            .await
            .status,
        400
    );
    let r = env
        .admin("POST", "advance", Some(json!({"seconds": 90})))
        .await;
    assert_eq!(r.body["now"], "2026-01-01T00:01:30Z");
    let a = env.a().await;
    env.get(&a, MTO).await;
    let st = env.admin("GET", "stats", None).await.body;
    for k in [
        "http_requests",
        "inner_requests",
        "throttled",
        "early_retries",
    ] {
        assert!(st[k].is_u64(), "{k} in {st}");
        assert!(st["per_tenant"][A][k].is_u64(), "per-tenant {k}");
    }
    assert_eq!(st["per_tenant"][A]["inner_requests"], 1);
    assert_eq!(
        env.admin("POST", "faults", Some(json!({"rate": 2})))
            .await
            .status,
        400
    );
    assert_eq!(env.admin("POST", "stats/reset", None).await.status, 204);
    assert_eq!(
        env.admin("GET", "stats", None).await.body["http_requests"],
        0
    );
}

#[tokio::test]
async fn in_flight_peaks_and_service_times() {
    let env = start_with(
        WORLD,
        Options {
            latency: Latency::Fixed(150),
            ..Options::default()
        },
    )
    .await;
    let a = env.a().await;
    let (r1, r2, r3) = tokio::join!(
        env.get(&a, "/users"),
        env.get(&a, "/groups"),
        env.get(&a, MTO)
    );
    assert!([r1.status, r2.status, r3.status].iter().all(|s| *s == 200));
    let s = env.admin("GET", "stats", None).await.body;
    assert!(s["peak_in_flight"].as_u64().unwrap() >= 2, "{s}");
    assert!(
        s["per_tenant"][A]["peak_in_flight"].as_u64().unwrap() >= 2,
        "{s}"
    );

    // instantiate carries a 2 s service time on top of the base latency.
    let t = Instant::now();
    let r = env
        .call(
            &a,
            "POST",
            &format!("/applicationTemplates/{SYNC_TEMPLATE}/instantiate"),
            Some(json!({"displayName": "slow"})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(t.elapsed().as_millis() >= 2150, "{:?}", t.elapsed());
}

#[tokio::test]
async fn small_burst_mode_throttles_early() {
    let env = start_with(
        WORLD,
        Options {
            throttle: true,
            throttle_burst: 0.1,
            ..Options::default()
        },
    )
    .await;
    let a = env.a().await;
    let batch: Vec<Value> = (0..20)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/users"}))
        .collect();
    let mut ok = 0;
    for _ in 0..10 {
        let r = env
            .call(&a, "POST", "/$batch", Some(json!({"requests": batch})))
            .await;
        ok += r.body["responses"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["status"] == 200)
            .count();
    }
    // 350 RU of capacity at 2 RU per GET /users.
    assert_eq!(ok, 175);
}

#[tokio::test]
async fn targeted_faults_hit_the_matching_request_even_inside_a_batch() {
    let env = start().await;
    let a = env.a().await;
    let r = env
        .admin(
            "POST",
            "faults",
            Some(json!({"targeted": [{"fault": "serviceUnavailable", "method": "PATCH", "pathContains": "/crossTenantAccessPolicy", "tenant": A}]})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        env.admin("GET", "faults", None).await.body["targeted"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let body = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/policies/crossTenantAccessPolicy"},
        {"id": "2", "method": "PATCH", "url": "/policies/crossTenantAccessPolicy", "headers": {"Content-Type": "application/json"}, "body": {"displayName": "x"}}
    ]});
    let r = env.call(&a, "POST", "/$batch", Some(body)).await;
    let st: Vec<u64> = r.body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["status"].as_u64().unwrap())
        .collect();
    assert_eq!(st, vec![200, 503]);
    // One-shot: the retry succeeds.
    let r = env
        .call(
            &a,
            "PATCH",
            "/policies/crossTenantAccessPolicy",
            Some(json!({"displayName": "x"})),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        env.admin(
            "POST",
            "faults",
            Some(json!({"targeted": [{"fault": "nope"}]}))
        )
        .await
        .status,
        400
    );
}
