//! The `mtoctl-emulator serve` binary: ready line, loopback guard, quickstart world.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_mtoctl-emulator");

fn quickstart_world() -> String {
    format!(
        "{}/../../examples/quickstart/world.yaml",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[tokio::test]
async fn serve_prints_one_ready_line_and_serves_the_quickstart_world() {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--world",
            &quickstart_world(),
            "--seed",
            "7",
            "--log-requests",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("ready line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("ready line format")
        .to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:")
            && base.rsplit(':').next().unwrap().parse::<u16>().unwrap() > 0,
        "{line}"
    );

    let env_file = std::fs::read_to_string(format!(
        "{}/../../examples/quickstart/emulator.env",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let secret = |name: &str| {
        env_file
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .expect("variable in emulator.env")
            .to_owned()
    };
    let client = reqwest::Client::new();
    for (tenant, client_id, var) in [
        (
            "6babcaad-604b-40ac-a9d7-9fd97c0b779f",
            "0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b",
            "CONTOSO_CLIENT_SECRET",
        ),
        (
            "3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11",
            "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            "FABRIKAM_CLIENT_SECRET",
        ),
    ] {
        let r = client
            .post(format!("{base}/{tenant}/oauth2/v2.0/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=client_credentials&client_id={client_id}&client_secret={}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
                secret(var)
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let tok: serde_json::Value = r.json().await.unwrap();
        let users: serde_json::Value = client
            .get(format!("{base}/v1.0/users?$select=userPrincipalName"))
            .bearer_auth(tok["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(users["value"].as_array().unwrap().len() >= 4, "{users}");
    }
    let groups = ["Contoso Sales", "Fabrikam Engineering"];
    let state: serde_json::Value = client
        .get(format!("{base}/_emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = state["tenants"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|t| {
            t["groups"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|g| g["displayName"].as_str())
        })
        .collect();
    for g in groups {
        assert!(names.contains(&g), "{g}");
    }
    let mut stderr = child.stderr.take().expect("stderr");
    child.kill().unwrap();
    let _ = child.wait();
    let mut log = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut log).unwrap();
    assert!(log.contains("GET /v1.0/users?$select=userPrincipalName -> 200 tenant=6babcaad-604b-40ac-a9d7-9fd97c0b779f"), "{log}");
}

#[test]
fn serve_refuses_non_loopback_without_allow_remote() {
    let out = Command::new(BIN)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-remote"));
    assert!(out.stdout.is_empty(), "no ready line");
}

#[test]
fn serve_rejects_a_broken_world_file() {
    let dir = std::env::temp_dir().join(format!("mtoctl-emu-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("w.yaml");
    std::fs::write(
        &f,
        "tenants:\n  - id: not-a-guid\n    displayName: X\n    domain: x\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--world", f.to_str().unwrap()])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a GUID"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_world_summarizes_the_quickstart_world() {
    let out = Command::new(BIN)
        .args(["check-world", &quickstart_world()])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ok: 2 tenants, 9 users, 3 groups, 2 apps\n"
    );
}

fn spawn_ready(args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ready line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("ready")
        .to_owned();
    (child, base)
}

#[tokio::test]
async fn kill_dash_nine_never_corrupts_the_state_file() {
    let dir = std::env::temp_dir().join(format!("mtoctl-emu-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.json");
    let state_s = state.to_str().unwrap().to_owned();
    let world = quickstart_world();
    let (mut child, base) = spawn_ready(&["serve", "--world", &world, "--state", &state_s]);
    let client = reqwest::Client::new();
    let tok: serde_json::Value = client
        .post(format!("{base}/6babcaad-604b-40ac-a9d7-9fd97c0b779f/oauth2/v2.0/token"))
        .body("grant_type=client_credentials&client_id=0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b&client_secret=contoso-emulator-secret&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tok = tok["access_token"].as_str().unwrap().to_owned();
    // Many writes in flight while the process is killed.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (client, base, tok) = (client.clone(), base.clone(), tok.clone());
        tasks.push(tokio::spawn(async move {
            let _ = client
                .patch(format!("{base}/v1.0/policies/crossTenantAccessPolicy"))
                .bearer_auth(&tok)
                .json(&serde_json::json!({"displayName": format!("write {i}")}))
                .send()
                .await;
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    child.kill().unwrap(); // SIGKILL on Unix
    let _ = child.wait();
    for t in tasks {
        let _ = t.await;
    }
    let text = std::fs::read_to_string(&state).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).expect("state file is whole JSON");
    assert!(v["tenants"]["6babcaad-604b-40ac-a9d7-9fd97c0b779f"].is_object());

    // And it restarts from it.
    let (mut child, base) = spawn_ready(&["serve", "--state", &state_s]);
    let r: serde_json::Value = client
        .get(format!("{base}/_emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["tenants"].as_object().unwrap().len(), 2);
    child.kill().unwrap();
    let _ = child.wait();
    std::fs::remove_dir_all(&dir).unwrap();
}
