//! What `mtoctl permissions` lists, and a quickstart world that grants exactly that: the
//! least-privilege tests (`least_privilege.rs`, `status_groups.rs`) share them.

use super::repo;

/// `mtoctl permissions -f <spec> --format json`, parsed (the command must exit 0).
pub fn listed_json(spec: &str) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mtoctl"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["permissions", "-f", spec, "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    serde_json::from_slice(&out.stdout).expect("json")
}

/// Each tenant's alias and the permissions `all` (a [`listed_json`]) lists under `key`
/// (`application`, `to_remove_synced_users`, ...).
pub fn listed_under(all: &serde_json::Value, key: &str) -> Vec<(String, Vec<String>)> {
    all["tenants"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| {
            let alias = t["alias"].as_str().expect("alias").to_owned();
            let perms = t[key].as_object().expect("a map").keys().cloned().collect();
            (alias, perms)
        })
        .collect()
}

/// The quickstart's world with each tenant's app granted exactly `grants`.
pub fn world_granting(grants: &[(String, Vec<String>)]) -> String {
    let mut text = std::fs::read_to_string(repo("examples/quickstart/world.yaml")).expect("world");
    for (alias, roles) in grants {
        let line = format!("        secret: {alias}-emulator-secret\n");
        assert!(text.contains(&line), "{alias}'s app in the world file");
        text = text.replace(
            &line,
            &format!("{line}        roles: [{}]\n", roles.join(", ")),
        );
    }
    text
}
