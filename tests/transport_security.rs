//! Transport security, enforced: Graph and login URLs are HTTPS except on loopback (checked on
//! the library and on the binary), TLS is rustls only (Cargo.lock holds no native-tls stack and
//! reqwest is built on rustls), and no source file or manifest has a switch that turns
//! certificate or host name validation off.
//!
//! The `openssl` crate is linked, and that is expected: azure_identity's certificate credential
//! and mtoctl-graph's PEM-to-PKCS#12 repackaging use it to read key files. It is not in the
//! TLS path; this test pins who may depend on it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use common::repo;
use mtoctl_graph::endpoints::Endpoints;

#[test]
fn plain_http_is_refused_for_every_host_that_is_not_loopback() {
    let refused = [
        "http://graph.microsoft.com",
        "http://login.microsoftonline.com",
        "http://10.0.0.1:8080",
        "http://192.168.1.1",
        "http://0.0.0.0:8080",
        // Look-alikes of loopback that are other hosts.
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
        "http://127.0.0.1@evil.example",
        "http://evil.example#@127.0.0.1",
        "http://evil.example?@127.0.0.1",
        "http://localhost.",
        // An IPv4-mapped IPv6 address is not treated as loopback.
        "http://[::ffff:127.0.0.1]",
        "HTTP://graph.example.com",
        // Other schemes.
        "ftp://127.0.0.1",
        "ws://127.0.0.1",
        "file:///etc/passwd",
        "graph.microsoft.com",
    ];
    for url in refused {
        let graph = Endpoints::new(Some(url), None);
        assert!(graph.is_err(), "Graph URL {url} was accepted: {graph:?}");
        let login = Endpoints::new(None, Some(url));
        assert!(login.is_err(), "login URL {url} was accepted: {login:?}");
        let message = login.expect_err("refused").to_string();
        assert!(
            message.contains("https") || message.contains("not a URL"),
            "the refusal of {url} says what to do: {message}"
        );
    }
    let accepted = [
        "https://graph.microsoft.com",
        "https://graph.microsoft.us",
        "https://login.microsoftonline.com",
        "http://127.0.0.1:4000",
        "http://127.5.6.7",
        "http://[::1]:4000",
        "http://localhost:4000",
        "http://LOCALHOST",
    ];
    for url in accepted {
        let endpoints = Endpoints::new(Some(url), Some(url))
            .unwrap_or_else(|e| panic!("{url} should be accepted: {e}"));
        // Plain HTTP is only ever loopback, for both endpoints.
        assert_eq!(
            endpoints.login_is_loopback_http(),
            url.to_ascii_lowercase().starts_with("http:"),
            "{url}"
        );
    }
    // The defaults are Microsoft's global cloud over HTTPS.
    let defaults = Endpoints::default();
    assert_eq!(defaults.graph().scheme(), "https");
    assert_eq!(defaults.login().scheme(), "https");
    assert!(!defaults.login_is_loopback_http());
}

#[test]
fn next_links_to_another_scheme_or_host_are_not_followed() {
    let e = Endpoints::new(Some("https://graph.microsoft.com"), None).expect("https");
    assert_eq!(
        e.relative_of("https://graph.microsoft.com/v1.0/users?$skiptoken=x")
            .as_deref(),
        Some("/users?$skiptoken=x")
    );
    for link in [
        "http://graph.microsoft.com/v1.0/users?$skiptoken=x",
        "https://graph.microsoft.com.evil.example/v1.0/users",
        "https://graph.microsoft.com:8443/v1.0/users",
        "https://evil.example/v1.0/users",
        "//evil.example/v1.0/users",
    ] {
        assert_eq!(e.relative_of(link), None, "{link} would be followed");
    }
}

#[test]
fn the_binary_refuses_plain_http_to_a_remote_host_before_any_request() {
    for (flag, url) in [
        ("--graph-url", "http://graph.example.invalid"),
        ("--login-url", "http://login.example.invalid"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_mtoctl"))
            .env("MTOCTL_NO_KNOWN_IDS", "1")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("MTOCTL_GRAPH_URL")
            .env_remove("MTOCTL_LOGIN_URL")
            .envs(common::quickstart_env())
            .args(["plan", "-f", "examples/quickstart/mto.yaml", flag, url])
            .args(["--color", "never"])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{flag} {url}: {stderr}");
        assert!(
            stderr.contains(url) && stderr.contains("not loopback"),
            "{flag} {url}: the error names the URL and why: {stderr}"
        );
    }
}

/// A system without CA certificates (a `scratch` image missing its bundle) gets an error that
/// says what to install, not a panic: reqwest's fallback client and azure_identity's own
/// both panic where the builder fails.
#[test]
fn no_ca_certificates_is_an_error_that_says_what_to_install() {
    let dir = common::scratch("no-ca");
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "").expect("an empty bundle");
    let (empty, dir) = (empty.to_string_lossy(), dir.to_string_lossy());
    // rustls-native-certs reads only these when they are set. No request is made: the port
    // is never connected to.
    let env = [("SSL_CERT_FILE", &*empty), ("SSL_CERT_DIR", &*dir)];
    let url = "http://127.0.0.1:9";
    let (run, _) = common::plan_against(url, url, &[], &env, Duration::from_secs(60));
    let stderr = &run.stderr;
    assert_eq!(run.code, 1, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("cannot set up HTTPS")
            && stderr.contains("ca-certificates")
            && stderr.contains("No CA certificates were loaded"),
        "names the cause and the fix: {stderr}"
    );
}

/// The `[[package]]` entries of Cargo.lock: name → the names of its dependencies (a package in
/// several versions has the union).
fn lock_packages() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(repo("Cargo.lock")).expect("Cargo.lock");
    let mut packages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for block in text.split("[[package]]").skip(1) {
        let mut name = None;
        let mut deps = BTreeSet::new();
        let mut in_deps = false;
        for line in block.lines() {
            let line = line.trim();
            if let Some(n) = line.strip_prefix("name = ") {
                name = Some(n.trim_matches('"').to_owned());
            } else if line.starts_with("dependencies = [") {
                in_deps = true;
            } else if in_deps && line.starts_with(']') {
                in_deps = false;
            } else if in_deps {
                // ` "name"` or ` "name version"` or ` "name version (source)"`.
                let dep = line.trim_matches(|c| c == '"' || c == ',');
                if let Some(dep) = dep.split_whitespace().next() {
                    deps.insert(dep.to_owned());
                }
            }
        }
        let name = name.expect("every package has a name");
        packages.entry(name).or_default().extend(deps);
    }
    packages
}

/// Every package reachable from `root` in the lock file.
fn closure(packages: &BTreeMap<String, BTreeSet<String>>, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![root.to_owned()];
    while let Some(p) = stack.pop() {
        if seen.insert(p.clone()) {
            stack.extend(packages.get(&p).into_iter().flatten().cloned());
        }
    }
    seen
}

#[test]
fn tls_is_rustls_only() {
    let packages = lock_packages();
    assert!(packages.len() > 50, "Cargo.lock was not parsed");
    // (schannel and security-framework appear too: rustls-platform-verifier reads the Windows
    // and macOS trust stores with them; they are not a TLS implementation here.)
    for banned in ["native-tls", "hyper-tls", "tokio-native-tls"] {
        assert!(
            !packages.contains_key(banned),
            "Cargo.lock contains `{banned}`: TLS must be rustls only (check reqwest's and \
             azure_core's features: default-features = false, `rustls`)"
        );
    }
    let http = closure(&packages, "reqwest");
    assert!(
        http.contains("rustls") && http.contains("hyper-rustls"),
        "reqwest is built on rustls"
    );
    for banned in ["openssl", "openssl-sys", "native-tls"] {
        assert!(
            !http.contains(banned),
            "reqwest's TLS stack reaches `{banned}`"
        );
    }
    // azure_identity signs in through azure_core's HTTP client, reqwest (the same one).
    assert!(
        closure(&packages, "azure_core").contains("reqwest"),
        "azure_core's HTTP client is reqwest"
    );
    // openssl reads certificate files (PKCS#12 and PEM) and nothing else: only these may use it.
    let users: BTreeSet<&str> = packages
        .iter()
        .filter(|(_, deps)| deps.contains("openssl"))
        .map(|(name, _)| name.as_str())
        .collect();
    // `mtoctl` names openssl only on musl, to compile it in (`vendored`) for the static binary.
    let allowed: BTreeSet<&str> = ["azure_identity", "mtoctl-graph", "mtoctl"]
        .into_iter()
        .collect();
    assert!(
        users.is_subset(&allowed),
        "new users of openssl: {:?}; openssl is for certificate files only, never TLS",
        users.difference(&allowed).collect::<Vec<_>>()
    );
    // And the root package names it in its musl-only table alone.
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("Cargo.toml");
    let mut section = "";
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if line.starts_with("openssl") {
            assert_eq!(
                section, "[target.'cfg(target_env = \"musl\")'.dependencies]",
                "mtoctl may depend on openssl only to compile it into the static (musl) binary"
            );
        }
    }
}

/// Source files and manifests under `dir`, recursively, skipping build output.
fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && name != ".git" {
                files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs" || e == "toml") {
            out.push(path);
        }
    }
}

#[test]
fn nothing_turns_certificate_validation_off() {
    let mut all = Vec::new();
    files(&repo("crates"), &mut all);
    all.push(repo("Cargo.toml"));
    assert!(all.len() > 20, "no sources found");
    // Split so that this file does not match itself if `tests/` is ever scanned too.
    let switches = [
        ["danger_accept", "_invalid_certs"].concat(),
        ["danger_accept", "_invalid_hostnames"].concat(),
        ["dangerous", "()"].concat(),
        ["NoCertificate", "Verification"].concat(),
        ["ServerCert", "Verifier"].concat(),
        ["tls_built_in_", "root_certs(false)"].concat(),
        ["native", "-tls"].concat(),
        ["default", "-tls"].concat(),
    ];
    let mut found = Vec::new();
    for path in &all {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for switch in &switches {
            if text.contains(switch.as_str()) {
                found.push(format!("{}: {switch}", path.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "switches that weaken TLS:\n{}",
        found.join("\n")
    );
}

/// A TLS handshake that fails (here: a loopback server that answers the ClientHello with
/// plain HTTP) is named as such, with the endpoint as given, once per tenant, and fails after
/// a few quick attempts: retrying does not mend a certificate or a server without TLS. Before,
/// the sign-in was retried silently for 82 s and reported as "retry policy expired".
#[test]
fn a_failed_tls_handshake_is_named_and_fails_in_seconds() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let (run, elapsed) =
        common::plan_against(&url, &url, &[], &[], std::time::Duration::from_secs(120));
    let stderr = run.stderr;
    let code = Some(run.code).filter(|c| *c != -1);
    assert_eq!(code, Some(1), "after {elapsed:?}: {stderr}");
    assert!(
        elapsed < std::time::Duration::from_secs(20),
        "took {elapsed:?}: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("  - ")).collect();
    assert_eq!(lines.len(), 2, "one line per tenant: {stderr}");
    for line in lines {
        assert!(
            line.contains(&url) && line.contains("the TLS handshake failed"),
            "{line}"
        );
    }
}
