//! `--record FILE` and `--record-key KEYFILE` through the binary (docs/transcripts.md).
//!
//! The quickstart's lifecycle is recorded against an emulator with a fast clock, behind a
//! recording proxy (as in `secrets.rs`): `apply --wait` from nothing to converged, then
//! `status --all-users`. Each transcript must parse line by line, start with the header (the
//! command, both tenants as `t1`, `t2` with pseudonymised ids), number its exchanges 1..n,
//! and still show the calls that matter (the organization made, Fabrikam added to it with its
//! pseudonymised tenant id, a configuration's settings written with `CompanyId` the same
//! pseudonym); and it must hold none of the world's or the spec's personal values or secrets:
//! tenant ids (also without hyphens), user, group, application and service principal ids,
//! UPNs, mail addresses, names, domains, the client ids and secrets, and the access tokens the
//! emulator issued (taken from the wire). The key file, private, maps the pseudonyms back.
//!
//! Also: `--record-key` without `--record` is a usage error, and so is one file for both; a
//! transcript that cannot be created fails the command before it talks to Graph.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::harden::Scenario;
use common::proxy::{recording_proxy, values_of};
use common::{CONTOSO, FABRIKAM, Run, repo, scratch};
use serde_json::Value;

/// `mtoctl ARGS` against `base` (the proxy) with the scenario's secrets.
async fn mtoctl(world: &Scenario, base: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mtoctl"));
    cmd.env("MTOCTL_NO_KNOWN_IDS", "1");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("MTOCTL_LOG")
        .envs(world.env.iter().cloned())
        .env("MTOCTL_GRAPH_URL", base)
        .env("MTOCTL_LOGIN_URL", base)
        .args(args)
        .args(["--color", "never"])
        .stdin(std::process::Stdio::null());
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("joined")
        .expect("runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A transcript's lines, each parsed; the header checked, `seq` checked to run 1..n.
fn read_transcript(path: &Path, command: &str) -> (String, Vec<Value>) {
    let text = std::fs::read_to_string(path).expect("the transcript");
    assert!(text.ends_with('\n'), "the last line is incomplete");
    let lines: Vec<Value> = text
        .lines()
        .enumerate()
        .map(|(n, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("line {}: {e}: {l}", n + 1))
        })
        .collect();
    let header = &lines[0];
    assert_eq!(header["transcript"], "mtoctl", "{header}");
    assert_eq!(header["format_version"], "1.0", "{header}");
    assert_eq!(header["command"], command, "{header}");
    assert_eq!(header["api"], "v1.0", "{header}");
    assert!(header["mtoctl_version"].is_string(), "{header}");
    let tenants = header["tenants"].as_array().expect("tenants");
    let names: Vec<&Value> = tenants.iter().map(|t| &t["tenant"]).collect();
    assert_eq!(names, ["t1", "t2"], "{header}");
    let exchanges = &lines[1..];
    assert!(
        exchanges.len() >= 5,
        "{command} recorded {} exchanges",
        exchanges.len()
    );
    for (n, x) in exchanges.iter().enumerate() {
        assert_eq!(x["seq"], n + 1, "{x}");
        assert!(x["tenant"] == "t1" || x["tenant"] == "t2", "{x}");
        assert!(
            x["path"].as_str().is_some_and(|p| p.starts_with('/')),
            "{x}"
        );
        assert!(x["at_ms"].is_u64() && x["latency_ms"].is_u64(), "{x}");
        assert!(x["request_headers"].is_object(), "{x}");
        assert!(x["response_headers"].is_object(), "{x}");
        match x["status"].as_u64() {
            Some(status) => assert!((100..600).contains(&status), "{x}"),
            None => assert!(x["error"].is_string(), "{x}"),
        }
    }
    (text, lines)
}

/// Whether `needle` is in `haystack` as a whole word (not inside a longer run of letters and
/// digits), without regard to case.
fn contains_word(haystack: &str, needle: &str) -> bool {
    let (haystack, needle) = (haystack.to_lowercase(), needle.to_lowercase());
    let alnum = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    haystack.match_indices(&needle).any(|(at, _)| {
        !alnum(haystack[..at].chars().next_back())
            && !alnum(haystack[at + needle.len()..].chars().next())
    })
}

/// Something that must not be in a transcript.
#[derive(Debug)]
struct Needle {
    /// What it is.
    what: String,
    value: String,
    /// Looked for as a whole word (names), or anywhere (ids, UPNs, domains, secrets).
    word: bool,
}

impl Needle {
    fn in_text(&self, text: &str) -> bool {
        if self.word {
            contains_word(text, &self.value)
        } else {
            text.to_lowercase().contains(&self.value.to_lowercase())
        }
    }
}

/// What must not be in a transcript: every personal value of the world (read from the
/// emulator's state after the runs) and of the spec, every secret.
fn needles(world: &Scenario, tokens: &[String]) -> Vec<Needle> {
    let mut out: Vec<Needle> = Vec::new();
    let mut add = |what: &str, value: &str| {
        if !value.is_empty() {
            let word = what.contains("name") || what.contains("attribute");
            out.push(Needle {
                what: what.to_owned(),
                value: value.to_owned(),
                word,
            });
        }
    };
    {
        let core = world.server.emulator.lock();
        for (id, t) in &core.state.tenants {
            add("a tenant id", id);
            add("a tenant id without hyphens", &id.replace('-', ""));
            add("a tenant's name", &t.display_name);
            add("a tenant's domain", &t.domain);
            for app in &t.apps {
                add("a client id", &app.client_id);
                if let Some(name) = &app.display_name {
                    add("an app registration's name", name);
                }
                for secret in &app.secrets {
                    add("a client secret", secret);
                }
            }
            for u in t.users.iter() {
                add("a user id", &u.id);
                add("a UPN", &u.user_principal_name);
                add("a user's name", &u.display_name);
                for v in [&u.given_name, &u.surname, &u.mail, &u.job_title]
                    .into_iter()
                    .flatten()
                {
                    add("a user's attribute", v);
                }
            }
            for g in &t.groups {
                add("a group id", &g.id);
                add("a group's name", &g.display_name);
            }
            for sp in &t.service_principals {
                add("a service principal id", &sp.id);
                add("an app id", &sp.app_id);
            }
            for app in &t.applications {
                add("an application id", &app.id);
                add("an app id", &app.app_id);
            }
        }
    }
    let spec = std::fs::read_to_string(&world.spec).expect("spec");
    let desired = mtoctl_model::spec::load("mto.yaml", spec.as_bytes())
        .expect("valid")
        .desired;
    add(
        "the organization's name",
        &desired.organization.display_name,
    );
    if let Some(d) = &desired.organization.description {
        add("the organization's description", d);
    }
    for (var, secret) in &world.env {
        add(&format!("the secret of {var}"), secret);
    }
    for token in tokens {
        add("an access token", token);
        if let Some(claims) = token.split('.').nth(1) {
            add("an access token's claims", claims);
        }
    }
    add("a JWT's start", "eyJ");
    out
}

/// The pseudonym table of a key file, after checking its format and that it is private.
fn read_key(path: &Path) -> BTreeMap<String, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).expect("key").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is not private");
    }
    let key: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("key")).expect("JSON");
    assert_eq!(key["format_version"], "1.0");
    serde_json::from_value(key["originals"].clone()).expect("originals: pseudonym → original")
}

/// The non-GET requests of a transcript (`$batch` items too): (tenant, method, path, body).
fn writes(lines: &[Value]) -> Vec<(String, String, String, Value)> {
    let mut out = Vec::new();
    for x in &lines[1..] {
        let tenant = x["tenant"].as_str().unwrap_or_default().to_owned();
        if x["path"] == "/$batch" {
            for item in x["request_body"]["requests"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if item["method"] != "GET" {
                    out.push((
                        tenant.clone(),
                        item["method"].as_str().unwrap_or_default().to_owned(),
                        item["url"].as_str().unwrap_or_default().to_owned(),
                        item["body"].clone(),
                    ));
                }
            }
        } else if x["method"] != "GET" {
            out.push((
                tenant,
                x["method"].as_str().unwrap_or_default().to_owned(),
                x["path"].as_str().unwrap_or_default().to_owned(),
                x["request_body"].clone(),
            ));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quickstart_lifecycle_is_recorded_without_personal_data_or_secrets() {
    let world = Scenario::quickstart(mtoctl_emulator::Options {
        follow_wall_clock: true,
        time_scale: 0.001,
        ..Default::default()
    })
    .await;
    let (base, _sent, answered) = recording_proxy(world.server.addr).await;
    let dir = scratch("record");
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();

    let apply = mtoctl(
        &world,
        &base,
        &[
            "apply",
            "-f",
            &world.spec,
            "--auto-approve",
            "--wait",
            "3m",
            "--record",
            &path("apply.jsonl"),
            "--record-key",
            &path("apply.key.json"),
        ],
    )
    .await;
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let status = mtoctl(
        &world,
        &base,
        &[
            "status",
            "-f",
            &world.spec,
            "--all-users",
            "--record",
            &path("status.jsonl"),
            "--record-key",
            &path("status.key.json"),
        ],
    )
    .await;
    assert!(
        [0, 3].contains(&status.code),
        "{}\n{}",
        status.stdout,
        status.stderr
    );

    let (apply_text, apply_lines) = read_transcript(&dir.join("apply.jsonl"), "apply");
    let (status_text, status_lines) = read_transcript(&dir.join("status.jsonl"), "status");

    // Nothing personal, nothing secret.
    let tokens = values_of(
        &answered.streams().join("\n"),
        "access_token",
        "access_token",
    );
    assert!(tokens.len() >= 2, "tokens on the wire: {}", tokens.len());
    let needles = needles(&world, &tokens);
    assert!(needles.len() > 40, "{needles:?}");
    for (name, text) in [("apply", &apply_text), ("status", &status_text)] {
        let found: Vec<String> = needles
            .iter()
            .filter(|n| n.in_text(text))
            .map(|n| format!("{} ({})", n.what, n.value))
            .collect();
        assert!(
            found.is_empty(),
            "the {name} transcript holds {}",
            found.join(", ")
        );
    }

    // The tenants' pseudonyms, and the key mapping them back.
    let key = read_key(&dir.join("apply.key.json"));
    let pseudonym = |t: usize| {
        apply_lines[0]["tenants"][t]["tenant_id"]
            .as_str()
            .expect("tenant_id")
            .to_owned()
    };
    let (contoso, fabrikam) = (pseudonym(0), pseudonym(1));
    assert_eq!(key[&contoso], CONTOSO);
    assert_eq!(key[&fabrikam], FABRIKAM);
    assert_ne!(contoso, fabrikam);

    // The calls that matter are there, with consistent pseudonyms.
    let writes = writes(&apply_lines);
    assert!(
        writes.iter().any(|(t, m, p, _)| t == "t1"
            && m == "PUT"
            && p == "/tenantRelationships/multiTenantOrganization"),
        "no organization made: {writes:#?}"
    );
    assert!(
        writes.iter().any(|(t, m, p, b)| t == "t1"
            && m == "POST"
            && p == "/tenantRelationships/multiTenantOrganization/tenants"
            && b["tenantId"] == fabrikam.as_str()),
        "Fabrikam not added to the organization: {writes:#?}"
    );
    let settings = writes
        .iter()
        .find(|(t, m, p, _)| t == "t1" && m == "PUT" && p.ends_with("/synchronization/secrets"))
        .unwrap_or_else(|| panic!("no settings written: {writes:#?}"));
    let company = settings.3["value"]
        .as_array()
        .expect("settings")
        .iter()
        .find(|s| s["key"] == "CompanyId")
        .expect("CompanyId");
    assert_eq!(company["value"], fabrikam.as_str(), "{}", settings.3);
    assert!(
        apply_lines[1..].iter().any(|x| x["path"]
            == "/applicationTemplates/518e5f48-1fc8-4c48-9387-9fdf28b0dfe7/instantiate"),
        "the template's public id is kept"
    );

    // The key maps the pseudonyms back to the spec's and the world's values.
    for (keyfile, text) in [
        ("apply.key.json", &apply_text),
        ("status.key.json", &status_text),
    ] {
        let key = read_key(&dir.join(keyfile));
        let originals: Vec<String> = key.values().map(|v| v.to_lowercase()).collect();
        for value in [
            CONTOSO,
            FABRIKAM,
            "alice@contoso.onmicrosoft.com",
            "bob@contoso.onmicrosoft.com",
            "carol@fabrikam.onmicrosoft.com",
            "contoso.onmicrosoft.com",
            "fabrikam.onmicrosoft.com",
            "contoso sales",
            "fabrikam engineering",
        ] {
            assert!(
                originals.contains(&value.to_owned()),
                "{keyfile} lacks {value}"
            );
        }
        // Every pseudonym of the transcript is in its key: restored, the names are back.
        let mut restored = text.to_string();
        let mut pseudonyms: Vec<(&String, &String)> = key.iter().collect();
        pseudonyms.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        for (p, o) in pseudonyms {
            restored = restored.replace(p.as_str(), o);
        }
        for value in [
            CONTOSO,
            FABRIKAM,
            "alice@contoso.onmicrosoft.com",
            "carol@fabrikam.onmicrosoft.com",
        ] {
            assert!(restored.contains(value), "{keyfile}: {value} not restored");
        }
    }
    assert!(
        status_lines[1..].iter().any(|x| x["path"]
            .as_str()
            .is_some_and(|p| p.contains("/users?$filter="))),
        "status read no users"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `mtoctl plan` of the quickstart with `args`, against nothing (these fail before Graph).
fn plan_with(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_mtoctl"))
        .env("MTOCTL_NO_KNOWN_IDS", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "plan",
            "-f",
            "examples/quickstart/mto.yaml",
            "--color",
            "never",
        ])
        .args([
            "--graph-url",
            "http://127.0.0.1:9",
            "--login-url",
            "http://127.0.0.1:9",
        ])
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_key_without_a_transcript_or_in_its_place_is_a_usage_error() {
    assert!(repo("examples/quickstart/mto.yaml").exists());
    let dir = scratch("record-usage");
    let key = dir.join("key.json").to_string_lossy().into_owned();
    let run = plan_with(&["--record-key", &key]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("--record"), "{}", run.stderr);
    assert!(!dir.join("key.json").exists());

    let run = plan_with(&["--record", &key, "--record-key", &key]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("name the same file"), "{}", run.stderr);
    assert!(!dir.join("key.json").exists());

    // A transcript that cannot be created: the command fails at once, naming it.
    let missing = dir.join("no-such-dir").join("t.jsonl");
    let run = plan_with(&["--record", &missing.to_string_lossy()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot create the transcript"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("127.0.0.1:9"), "{}", run.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}
