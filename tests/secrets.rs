//! Secrets and tokens never leave mtoctl: `plan`, `plan --out`, `show`, `apply` (a saved plan,
//! then a spec with `--auto-approve`, in text and JSON), `status` and `export` run at `--log-level debug` (and one plan
//! at `trace`) against the emulator, with Contoso signing in with a client secret and Fabrikam
//! with a password-protected PEM certificate. Everything they leave behind is scanned: stdout,
//! stderr, the plan file, the emulator's saved state and its admin views. The access tokens
//! the emulator issued are taken from the wire itself (a recording proxy sits between mtoctl
//! and the emulator), as are the client assertions mtoctl signed with the certificate; none of
//! them, nor any other JWT-shaped string, nor the secret, the password or the key may appear.
//!
//! Also: `Debug` of the credential and configuration types redacts.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use common::proxy::{recording_proxy, values_of};
use common::{quickstart_env, repo};
use serde_json::Value;

/// Contoso's client secret (examples/quickstart/emulator.env).
const CONTOSO_SECRET_VAR: &str = "CONTOSO_CLIENT_SECRET";
/// The password of Fabrikam's certificate key.
const CERT_PASSWORD: &str = "pem-secrets-test-password-5e1c";
/// SHA-1 thumbprint of [`CERTIFICATE_PEM`]'s certificate, registered on Fabrikam's app.
const THUMBPRINT: &str = "9548053D2FC8353FC42DA6E50AC8A74A81561B06";
/// A self-signed test certificate (valid for a century) and its key, encrypted with
/// [`CERT_PASSWORD`]. Made for this test only; it identifies nothing but the emulator's app.
const CERTIFICATE_PEM: &str = r"-----BEGIN CERTIFICATE-----
MIIDHzCCAgegAwIBAgIUfYcQ30sTD+QsNxHeT09LogsiKZ0wDQYJKoZIhvcNAQEL
BQAwHjEcMBoGA1UEAwwTbXRvY3RsIHNlY3JldHMgdGVzdDAgFw0yNjExMjYxOTMz
MjhaGA8yMTI2MTEwMjE5MzMyOFowHjEcMBoGA1UEAwwTbXRvY3RsIHNlY3JldHMg
dGVzdDCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBALkx07yyfAugTWsn
uUBZZjI7BRE+KC4i+dbIwruENPYWeuRSqUd5SDt/dYaz/kgm/VtKRV4RfvDRIHyQ
xW+D0yZS8XobpzTbUJ9pSrbyFB4t96atpQnKBd5VtjlhUyQdEynzevcl9n/w6rO5
b0KAXybQANXu+4N2rkRAsY7MwIY2AJsmCHPTQxiv1v5zNk8rpfmgu05IL+lUZYKi
b029YRo6VV/PpkYWg52QqqAKQEt/Ks9kTcToU4N73oTiLkdChhR+r30VjlJWK+Ln
B2Kfm7xDr4fvsWT6O6VVKbXTw52Zgan5Iwp9D5k1u1uL11qa1F4ik4+Rg5tg5xEs
KwV0oVUCAwEAAaNTMFEwHQYDVR0OBBYEFBq9zYurRUMe9xWFuYyBmURR8xtSMB8G
A1UdIwQYMBaAFBq9zYurRUMe9xWFuYyBmURR8xtSMA8GA1UdEwEB/wQFMAMBAf8w
DQYJKoZIhvcNAQELBQADggEBAJRXxVywRGIMzY7VeRlxXivU20srKzFpGrNh5jGi
Q0sHm77yFhXSDrjJZl29lYtMxkrg/4VPvjJSXJiySgbpnlsZR07NPe/A4+Nr1LZI
RNl1rL6n91N/znPuh1Ms2DPeHFHAqXJ8OBNeJ+C18PlR7gCMqu8agT1P9ySWg6qZ
mO6u4HYZklDqqDO+g4Tsj6XKUAP29Gz6TKOTb18I0Jj1RKBm8XaJiPUCkPHuMOIa
hMpLHevXiDGO6+wGpvj1JlC6lhCGTVZOb3gZOGuWHBUqlPwfeISNjfxRC9udBGQB
Zh8ty9/YtmrWQP9vxYATcNOiDxp4qmzOBLvqh3kuZBoOz9M=
-----END CERTIFICATE-----
-----BEGIN ENCRYPTED PRIVATE KEY-----
MIIFLTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI4z47bBVRaFYCAggA
MAwGCCqGSIb3DQIJBQAwHQYJYIZIAWUDBAEqBBC+Lm8KLoXBqZA6L5LBLRo5BIIE
0IN2yj2bNvRLMh9gaQENdJRzS/27Ul4I6AX2EiiKWFgQELSMPF9DPEkwRZ1h+OIY
twYOux4Y85ZLDgYTvsKWM/swyzhVMCH38DwUF8BjUGgipuE/udV0/jaz+Vy9f7GI
rIVL8qXmjL95MyOoxVHLyvF/JWV8Tj6EJPGoGj4SwN7W3Y/tkKi+td/EU6wtClVH
ST4Ng1EkjoxfaWtNN1mfKIwhzu0dSMZiZewvzEmglQNy1oTl7baJuWJMkPROC9Ax
ouCD/t05LOZH1y9T7sUDFU5zVlVz8X6E3qGkjp6n2kXc8F6B/PbLj/flkPylY2gB
f4vyAAXYV0EMr7oe2JCfYyq7WIezSpmj7vNcfr8LRhMLrI/7AeaDr3ZZh3h0Zi6c
Xv3lwhPvxB6JiTt5jyeVZEi0a3YodZKhEgv7quoOpVbXL8AdS6/P+uhI0pvAI4/p
+1S8gl5QfdbK46w0vmu9SWhnylqki+J+KNESpnN/T3ubcUCIiA8Ayu25IvRRg5Yl
vYL02skKK7IYgU3+NU/ecLNJryEDrMyG8NLdteNuATR1K9eDAG0lLXKnnFve7uzP
RT+U4DBRLUxJbK8G6itJxF73+bP70GVAeCaIrj641OIMZ90YnokeqqF8GDCgDy+b
f73FP/TGR+J7pMNddS7opFFoLHXNlvH6apvekdl1HKbKOZbkz0DSjqrcf/77X9mr
7mZ990pNaKDChZEF3Rsf9GVBZ4X44SK16L2pTjL2O4K6xZHkdIfndjKjum8W22d+
glj+YMnFLGKtYE4h8/WfFFO7vK7N5ESXLajcIfgpa493RL6RQEW+zApW7eF27zY7
imz1ddqjGYMhVl4pvqsJCnU/8VPh8rtV1EOKXA4k01aZ2sM9Tn+5G1KQifHnXtRi
bKyIAP9OmEeLHTRh+1OPHdoj/SFoa+ttP8pmEulOzz1qbRG6fsZQEzs0/i76RgeH
QzyudMeOtbpHS0Mg9F6hX4g+dSfnUND7GI74vkqjEbCHL0Xp2yFPePcS8pD2SJI2
n/0NfBxEtHwkKe9GvdqGF1Fu2tvDI2hs6/gAmbwPr4MBiQ0Tn/pJ+TGHDPt/2rEm
tfzzfPl3J9L8biAlkkg213NlV8ERff6IQpOcoyEPikEiNwEnsuMAlB0O3Pyg3tdN
sxzteY/yg6YxGX755CMLl3ErxbObLZjSBUufe4sqgrLGF7TBPeUlyRTtYIs0QEBj
qkyKYrwr+naVyo4SzNoo5YHAZRgo4G4YrzwIxXhLNJjTc/D0+kJFFcnwSh32gTOz
LPICp+PEvyePSmMcNLomNW9lYLlxPueBHXwlZEjabahL+HqWtd+zSGTYdsYSeCpZ
JaYfgpfl8uWq77oU7iCcx5//ShySjpqVu2tf4rLs98+AIhKlzyMDvq9cEjakcWkW
+6nNg7q4fG4nsLclFIK4P5I5NiMPEEkeBovb/HQVmd3Geq2MY49n1s/mg7CxnAdI
3GU5kjGKi6m8R82e6Lg+UJtaJUiQS82ckRINyromqYRpX/dGnvkQDKv+4ydjYL+D
e52DS+9rP/2r69vbZ0baDjagvrU9UG417c64xY5XgUcX6jlZu74f2sxQ0msL2z2u
vFE8Lx8z+orQpB4Jg0QBekKRTKdT62qC5gpBvtwNB8LZ
-----END ENCRYPTED PRIVATE KEY-----
";

struct Run {
    what: String,
    code: i32,
    stdout: String,
    stderr: String,
}

fn mtoctl(dir: &Path, base: &str, env: &[(String, String)], args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_mtoctl"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("MTOCTL_GRAPH_URL", base)
        .env("MTOCTL_LOGIN_URL", base)
        .args(args)
        .args(["--color", "never"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs");
    Run {
        what: args.join(" "),
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The quickstart world with Fabrikam's app also accepting the test certificate.
fn world_text() -> String {
    let text = std::fs::read_to_string(repo("examples/quickstart/world.yaml")).expect("world");
    let marker = "        secret: fabrikam-emulator-secret\n";
    assert!(text.contains(marker), "the quickstart world changed shape");
    text.replace(
        marker,
        &format!("{marker}        certificates:\n          - thumbprint: {THUMBPRINT}\n"),
    )
}

/// The quickstart spec with Fabrikam signing in with the certificate.
fn spec_text() -> String {
    let text = std::fs::read_to_string(repo("examples/quickstart/mto.yaml")).expect("spec");
    let marker = "      clientSecret:\n        fromEnv: FABRIKAM_CLIENT_SECRET\n";
    assert!(text.contains(marker), "the quickstart spec changed shape");
    text.replace(
        marker,
        "      certificate:\n        path: fabrikam.pem\n        passwordFromEnv: FABRIKAM_CERT_PASSWORD\n",
    )
}

/// The state as saved, without the app registrations' own copies of their client secrets
/// (the emulator is the identity provider: it must know them; nothing mtoctl wrote may).
fn without_registered_secrets(mut state: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if map.contains_key("clientId") && map.get("secrets").is_some_and(Value::is_array) {
                    map.insert("secrets".into(), Value::Array(Vec::new()));
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut state);
    state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_token_in_any_output_plan_file_or_emulator_state() {
    let dir = std::env::temp_dir().join(format!("mtoctl-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("mto.yaml"), spec_text()).expect("spec");
    std::fs::write(dir.join("fabrikam.pem"), CERTIFICATE_PEM).expect("certificate");
    let state_file = dir.join("emulator-state.json");

    let options = mtoctl_emulator::Options {
        state_file: Some(state_file.clone()),
        ..Default::default()
    };
    let (_contract, server) = common::contract::serve_checked(&world_text(), options).await;
    let (base, sent, answered) = recording_proxy(server.addr).await;

    let mut env: Vec<(String, String)> = quickstart_env()
        .into_iter()
        .filter(|(k, _)| k == CONTOSO_SECRET_VAR)
        .collect();
    env.push(("FABRIKAM_CERT_PASSWORD".into(), CERT_PASSWORD.into()));
    let contoso_secret = env[0].1.clone();
    let plan_file = dir.join("plan.json");
    let plan_path = plan_file.to_str().expect("utf-8 path");

    let debug = ["--log-level", "debug"];
    // `advance` moves the emulator's clock past the join and a sync cycle, so that the next
    // apply carries on with the sync configurations (whose settings mtoctl writes to Graph).
    let steps: Vec<Vec<&str>> = vec![
        vec!["plan", "-f", "mto.yaml", "--log-level", "trace"],
        vec!["plan", "-f", "mto.yaml", "--out", plan_path],
        vec!["plan", "-f", "mto.yaml", "--format", "json"],
        vec!["plan", "-f", "mto.yaml", "--format", "markdown"],
        vec!["show", plan_path],
        vec!["show", plan_path, "--format", "json"],
        vec!["apply", plan_path, "-f", "mto.yaml"],
        vec!["advance"],
        vec!["apply", "-f", "mto.yaml", "--auto-approve"],
        vec!["advance"],
        vec![
            "apply",
            "-f",
            "mto.yaml",
            "--auto-approve",
            "--format",
            "json",
        ],
        vec!["advance"],
        vec![
            "apply",
            "-f",
            "mto.yaml",
            "--auto-approve",
            "--format",
            "json",
        ],
        vec!["status", "-f", "mto.yaml"],
        vec!["status", "-f", "mto.yaml", "--format", "json"],
        vec!["export", "-f", "mto.yaml"],
        vec!["plan", "-f", "mto.yaml", "--detailed-exitcode"],
    ];
    let mut runs = Vec::new();
    for args in &steps {
        if args == &["advance"] {
            server.emulator.advance(5.0 * 3600.0);
            continue;
        }
        let mut args = args.clone();
        if !args.contains(&"--log-level") {
            args.extend(debug);
        }
        let (d, b, e) = (dir.clone(), base.clone(), env.clone());
        let owned: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let run = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = owned.iter().map(String::as_str).collect();
            mtoctl(&d, &b, &e, &args)
        })
        .await
        .expect("joined");
        // Each must have done real work (signed in and talked to Graph), or the scan proves
        // nothing: 0 done, 2 changes present (plan), 3 applied and waiting on Graph (apply).
        assert!(
            [0, 2, 3].contains(&run.code),
            "`mtoctl {}` failed ({}):\n{}\n{}",
            run.what,
            run.code,
            run.stdout,
            run.stderr
        );
        runs.push(run);
    }
    // The last plan finds nothing left to do: every apply above did its part.
    assert_eq!(
        runs.last().map(|r| r.code),
        Some(0),
        "the applies did not converge:\n{}",
        runs.last().map(|r| r.stdout.as_str()).unwrap_or_default()
    );
    // The debug log did record the Graph traffic (so there was something to scan).
    assert!(
        runs[1].stderr.contains("graph call"),
        "no debug log of Graph calls:\n{}",
        runs[1].stderr
    );

    // What went over the wire: the tokens the emulator issued, the assertions mtoctl signed.
    let answers = answered.streams().join("\n");
    let requests = sent.streams().join("\n");
    let tokens = values_of(&answers, "access_token", "access_token");
    let assertions = values_of(&requests, "client_assertion", "client_assertion");
    assert!(
        tokens.len() >= 2,
        "expected tokens for both tenants on the wire, saw {}",
        tokens.len()
    );
    assert!(
        !assertions.is_empty(),
        "expected certificate client assertions on the wire"
    );
    assert!(
        requests.contains(&format!("client_secret={contoso_secret}")),
        "the recording misses Contoso's sign-in"
    );

    let mut needles: Vec<(String, String)> = vec![
        ("Contoso's client secret".into(), contoso_secret.clone()),
        ("the certificate password".into(), CERT_PASSWORD.into()),
        ("a PEM private key".into(), "PRIVATE KEY".into()),
        ("a JWT".into(), "eyJ".into()),
    ];
    let key_body = CERTIFICATE_PEM
        .split("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        .nth(1)
        .expect("key")
        .lines()
        .find(|l| l.len() > 40)
        .expect("a key line");
    needles.push(("the encrypted key".into(), key_body.to_owned()));
    for (kind, values) in [
        ("an access token", &tokens),
        ("a client assertion", &assertions),
    ] {
        for value in values.iter() {
            let parts: Vec<&str> = value.split('.').collect();
            assert_eq!(parts.len(), 3, "{kind} is a JWT");
            needles.push((kind.to_owned(), value.clone()));
            needles.push((format!("the signature of {kind}"), parts[2].to_owned()));
            needles.push((format!("the claims of {kind}"), parts[1].to_owned()));
        }
    }

    let mut haystacks: Vec<(String, String)> = Vec::new();
    for run in &runs {
        haystacks.push((
            format!("stdout of `mtoctl {}`", run.what),
            run.stdout.clone(),
        ));
        haystacks.push((
            format!("stderr of `mtoctl {}`", run.what),
            run.stderr.clone(),
        ));
    }
    haystacks.push((
        "the plan file".into(),
        std::fs::read_to_string(&plan_file).expect("plan file written"),
    ));
    let saved: Value =
        serde_json::from_slice(&std::fs::read(&state_file).expect("state saved")).expect("json");
    haystacks.push((
        "the emulator's saved state".into(),
        without_registered_secrets(saved).to_string(),
    ));
    for path in ["/_emulator/state", "/_emulator/stats"] {
        let body: Value = reqwest::get(format!("{}{path}", server.base_url))
            .await
            .expect("admin call")
            .json()
            .await
            .expect("json");
        haystacks.push((
            format!("the emulator's {path}"),
            without_registered_secrets(body).to_string(),
        ));
    }
    // Every file mtoctl left in its working directory (besides the inputs).
    for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if [
            "mto.yaml",
            "fabrikam.pem",
            "emulator-state.json",
            "plan.json",
        ]
        .contains(&name.as_str())
        {
            continue;
        }
        if let Ok(text) = std::fs::read(entry.path()) {
            haystacks.push((
                format!("the file {name}"),
                String::from_utf8_lossy(&text).into_owned(),
            ));
        }
    }

    let mut leaks = Vec::new();
    for (place, text) in &haystacks {
        for (kind, needle) in &needles {
            if text.contains(needle.as_str()) {
                leaks.push(format!("{kind} in {place}"));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    server.handle.abort();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `Debug` of what holds credentials shows no secret: the environment, the auth context, the
/// credentials built from a client secret and from a password-protected certificate (before
/// and after they fetched a token), and the Graph client holding them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_output_of_credentials_and_configuration_redacts() {
    use mtoctl_graph::auth::{AuthContext, MapEnvironment, credential_for};
    use mtoctl_graph::endpoints::Endpoints;
    use mtoctl_graph::transport::{ClientConfig, GraphClient, GraphRequest, http_client};

    let dir: PathBuf =
        std::env::temp_dir().join(format!("mtoctl-secrets-debug-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("fabrikam.pem"), CERTIFICATE_PEM).expect("certificate");
    let (_contract, server) =
        common::contract::serve_checked(&world_text(), Default::default()).await;

    let mut vars: std::collections::BTreeMap<String, String> =
        quickstart_env().into_iter().collect();
    vars.insert("FABRIKAM_CERT_PASSWORD".into(), CERT_PASSWORD.into());
    let secrets: Vec<String> = vars.values().cloned().collect();
    let env = MapEnvironment(vars);
    let ctx = AuthContext {
        endpoints: Endpoints::new(Some(&server.base_url), Some(&server.base_url))
            .expect("loopback"),
        env: Arc::new(env.clone()),
        spec_dir: dir.clone(),
        http: http_client(std::time::Duration::from_secs(30)).expect("an HTTP client"),
    };
    let desired = mtoctl_model::spec::load("mto.yaml", spec_text().as_bytes())
        .expect("valid")
        .desired;
    let mut builder = GraphClient::builder(
        ctx.http.clone(),
        ctx.endpoints.clone(),
        ClientConfig::default(),
    );
    let mut credentials = Vec::new();
    for tenant in &desired.tenants {
        let credential = credential_for(tenant, &ctx).expect("credential");
        builder = builder.tenant(tenant.alias.as_str(), credential.clone());
        credentials.push(credential);
    }
    let client = builder.build();
    let mut renderings = vec![
        format!("{env:?}"),
        format!("{ctx:?}"),
        format!("{desired:?}"),
        format!("{client:?}"),
    ];
    renderings.extend(credentials.iter().map(|c| format!("{c:?}")));
    // After a call each credential holds a token: render them again.
    for tenant in &desired.tenants {
        client
            .send(
                tenant.alias.as_str(),
                &GraphRequest::get("/tenantRelationships/multiTenantOrganization"),
            )
            .await
            .expect("signed-in call");
    }
    renderings.extend(credentials.iter().map(|c| format!("{c:?}")));
    renderings.push(format!("{client:?}"));
    for text in &renderings {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret in Debug output: {text}"
            );
        }
        assert!(!text.contains("eyJ"), "a token in Debug output: {text}");
        assert!(
            !text.contains("PRIVATE KEY"),
            "a key in Debug output: {text}"
        );
    }
    server.handle.abort();
    let _ = std::fs::remove_dir_all(&dir);
}
