//! Script tests: each `tests/scripts/<name>.txt` is a sequence of commands (`mtoctl` runs,
//! emulator admin calls, out-of-band Graph writes, files written into a scratch directory) run
//! against an emulator of its own, with every exchange checked against Graph's contract. The
//! transcript, normalised so that it is stable, must equal `tests/scripts/<name>.out`;
//! `MTOCTL_BLESS=1 cargo test --test scripts` rewrites those golden files. The language is
//! described in `tests/scripts/README.md`.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// One `#[test]` per script, so a failure names its script; `SCRIPTS` lists them for the
/// check that no script file goes untested. A test `scope_shrink` runs `scope-shrink.txt`.
macro_rules! scripts {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run_script(&stringify!($name).replace('_', "-"));
            }
        )*
        const SCRIPTS: &[&str] = &[$(stringify!($name)),*];
    };
}

scripts!(
    walkthrough,
    drift,
    scope_shrink,
    failed_join,
    quarantined_job,
    stale_plan,
);

/// The scripts run one at a time: each runs a dozen `mtoctl` processes, and the whole suite
/// shares two cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Longest one `mtoctl` run may take before the script fails (a hang, not a slow run).
const RUN_LIMIT: Duration = Duration::from_secs(180);

/// The application template of cross-tenant synchronization: a constant of Graph's, kept
/// verbatim in transcripts.
const SYNC_TEMPLATE: &str = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7";

#[test]
fn every_script_file_has_a_test_and_every_golden_file_a_script() {
    let dir = common::repo("tests/scripts");
    let mut txt = BTreeSet::new();
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("tests/scripts") {
        let path = entry.expect("entry").path();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        match path.extension().and_then(|e| e.to_str()) {
            Some("txt") => txt.insert(stem),
            Some("out") => out.insert(stem),
            _ => false,
        };
    }
    let tested: BTreeSet<String> = SCRIPTS.iter().map(|s| s.replace('_', "-")).collect();
    assert_eq!(
        txt, tested,
        "each tests/scripts/*.txt needs its line in scripts!()"
    );
    assert!(
        out.is_subset(&txt),
        "golden files without a script: {:?}",
        out.difference(&txt).collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------------------------------
// The language.

/// One step of a script, with its 1-based line number.
#[derive(Debug)]
struct Step {
    line: usize,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// A comment or blank line: echoed into the transcript.
    Echo(String),
    /// `mtoctl ARGS…`.
    Mtoctl(Vec<String>),
    /// `emulator VERB …`: the verb's words and the raw rest of the line (a JSON body).
    Emulator(String, Vec<String>),
    /// `graph TENANT METHOD PATH [JSON]`.
    Graph(Vec<String>, String),
    /// `file NAME` … `end`.
    File(String, String),
    /// `copy REPO-PATH NAME`.
    Copy(String, String),
}

/// How many words each emulator verb takes, and whether a JSON rest follows them (`None`: no
/// such verb).
fn emulator_words(verb: &str) -> Option<(usize, bool)> {
    Some(match verb {
        "advance" => (1, false),
        "fault" => (0, true),
        "faults" => (0, false),
        "add-user" => (1, true),
        "update-user" => (2, true),
        "delete-user" => (2, false),
        "add-group" => (1, true),
        "add-member" | "remove-member" => (3, false),
        _ => return None,
    })
}

/// Whitespace-separated words, `"double quotes"` grouping one with spaces; each with the
/// byte offset where it ends, so that the rest of a line can be taken raw.
fn words(s: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        let mut end = i;
        if c == '"' {
            chars.next();
            for (j, c) in chars.by_ref() {
                end = j + 1;
                if c == '"' {
                    break;
                }
                word.push(c);
            }
        } else {
            while let Some(&(j, c)) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                end = j + c.len_utf8();
                chars.next();
            }
        }
        out.push((word, end));
    }
    out
}

/// The first `n` words of `s` and the trimmed rest after them.
fn split_words(s: &str, n: usize) -> Option<(Vec<String>, String)> {
    let all = words(s);
    if all.len() < n {
        return None;
    }
    let end = if n == 0 { 0 } else { all[n - 1].1 };
    let head = all.into_iter().take(n).map(|(w, _)| w).collect();
    Some((head, s[end..].trim().to_owned()))
}

/// The steps of script `name`; panics on a line it cannot run, before anything runs.
fn parse(name: &str, text: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, raw)) = lines.next() {
        let line = i + 1;
        let fail = |why: &str| -> ! { panic!("script {name}, line {line}: {why}: {raw}") };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            steps.push(Step {
                line,
                kind: Kind::Echo(trimmed.to_owned()),
            });
            continue;
        }
        let (command, rest) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
        let kind = match command {
            "mtoctl" => Kind::Mtoctl(words(rest).into_iter().map(|(w, _)| w).collect()),
            "emulator" => {
                let (verb, rest) = rest.trim().split_once(' ').unwrap_or((rest.trim(), ""));
                if verb == "start" {
                    Kind::Emulator(
                        verb.into(),
                        words(rest).into_iter().map(|(w, _)| w).collect(),
                    )
                } else {
                    let Some((n, json)) = emulator_words(verb) else {
                        fail("unknown emulator verb")
                    };
                    let Some((mut args, body)) = split_words(rest, n) else {
                        fail("too few words")
                    };
                    match (json, body.is_empty()) {
                        (true, true) => fail("a JSON body is missing"),
                        (false, false) => fail("unexpected words"),
                        (true, false) => args.push(body),
                        (false, true) => {}
                    }
                    Kind::Emulator(verb.into(), args)
                }
            }
            "graph" => match split_words(rest, 3) {
                Some((args, body)) => Kind::Graph(args, body),
                None => fail("graph takes TENANT METHOD PATH [JSON]"),
            },
            "file" => {
                let mut body = String::new();
                loop {
                    match lines.next() {
                        Some((_, l)) if l.trim() == "end" => break,
                        Some((_, l)) => {
                            body.push_str(l);
                            body.push('\n');
                        }
                        None => fail("no `end` after the file"),
                    }
                }
                match words(rest).as_slice() {
                    [(n, _)] => Kind::File(n.clone(), body),
                    _ => fail("file takes one NAME"),
                }
            }
            "copy" => match words(rest).as_slice() {
                [(from, _), (to, _)] => Kind::Copy(from.clone(), to.clone()),
                _ => fail("copy takes REPO-PATH NAME"),
            },
            _ => fail("unknown command"),
        };
        steps.push(Step { line, kind });
    }
    steps
}

// ---------------------------------------------------------------------------------------
// Running a script.

/// An emulator serving one script's world, and what the script needs to talk to it.
struct Running {
    server: mtoctl_emulator::Server,
    world: mtoctl_emulator::world::WorldFile,
    /// Read at the end of the script: fails it on any contract finding.
    contract: common::contract::CheckedOnDrop,
}

struct Script {
    name: String,
    dir: PathBuf,
    runtime: tokio::runtime::Runtime,
    emulator: Option<Running>,
    http: reqwest::Client,
    norm: Normaliser,
    transcript: String,
}

fn run_script(name: &str) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let source = common::repo(&format!("tests/scripts/{name}.txt"));
    let text = std::fs::read_to_string(&source)
        .unwrap_or_else(|e| panic!("script {name}: {}: {e}", source.display()));
    let steps = parse(name, &text);
    let dir = common::scratch(&format!("script-{name}"));
    let mut norm = Normaliser::new(&dir);
    norm.keep_guids_in(&text);
    for step in &steps {
        if let Kind::Copy(from, _) = &step.kind {
            norm.keep_guids_in(&std::fs::read_to_string(common::repo(from)).unwrap_or_default());
        }
    }
    let mut script = Script {
        name: name.to_owned(),
        dir: dir.clone(),
        runtime: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime"),
        emulator: None,
        http: reqwest::Client::new(),
        norm,
        transcript: String::new(),
    };
    for step in &steps {
        script.step(step);
    }
    let Script {
        transcript,
        emulator,
        runtime,
        ..
    } = script;
    if let Some(running) = emulator {
        running.server.handle.abort();
        // Contract findings fail the script, whatever its transcript.
        let findings = running.contract.0.findings();
        assert!(
            findings.is_empty(),
            "script {name}: {} request(s) or answer(s) break Graph v1.0's published contract:\n{}",
            findings.len(),
            findings.join("\n")
        );
    }
    drop(runtime);
    compare(name, &transcript);
    let _ = std::fs::remove_dir_all(&dir);
}

impl Script {
    fn fail(&self, step: &Step, why: &str) -> ! {
        panic!(
            "script {}, line {}: {why}\n(scratch directory kept: {})",
            self.name,
            step.line,
            self.dir.display()
        )
    }

    fn step(&mut self, step: &Step) {
        match &step.kind {
            Kind::Echo(text) => {
                self.transcript.push_str(text);
                self.transcript.push('\n');
            }
            Kind::File(name, body) => {
                self.echo(&format!("file {name}"));
                self.write(step, name, body);
            }
            Kind::Copy(from, to) => {
                self.echo(&format!("copy {from} {to}"));
                let body = std::fs::read_to_string(common::repo(from))
                    .unwrap_or_else(|e| self.fail(step, &format!("{from}: {e}")));
                self.write(step, to, &body);
            }
            Kind::Mtoctl(args) => {
                self.echo(&format!("mtoctl {}", quoted(args)));
                self.ensure_emulator(step, &[]);
                self.mtoctl(step, args);
            }
            Kind::Emulator(verb, args) if verb == "start" => {
                self.echo(&format!("emulator start {}", quoted(args)));
                if self.emulator.is_some() {
                    self.fail(
                        step,
                        "the emulator already started: `emulator start` comes first",
                    );
                }
                self.ensure_emulator(step, args);
            }
            Kind::Emulator(verb, args) => {
                self.echo(&format!("emulator {verb} {}", quoted(args)));
                self.ensure_emulator(step, &[]);
                self.admin(step, verb, args);
            }
            Kind::Graph(args, body) => {
                self.echo(&format!("graph {} {body}", quoted(args)));
                self.ensure_emulator(step, &[]);
                self.graph(step, args, body);
            }
        }
    }

    fn echo(&mut self, command: &str) {
        let line = self.norm.apply(command.trim_end());
        let _ = writeln!(self.transcript, "$ {line}");
    }

    fn record(&mut self, label: &str, text: &str) {
        if text.is_empty() {
            return;
        }
        let text = self.norm.apply(text);
        let _ = writeln!(self.transcript, "--- {label}");
        self.transcript.push_str(&text);
        if !text.ends_with('\n') {
            self.transcript.push_str("\n[no newline at the end]\n");
        }
    }

    fn write(&mut self, step: &Step, name: &str, body: &str) {
        if name.contains("..") || Path::new(name).is_absolute() {
            self.fail(step, "files stay inside the scratch directory");
        }
        self.norm.keep_guids_in(body);
        std::fs::write(self.dir.join(name), body)
            .unwrap_or_else(|e| self.fail(step, &format!("{name}: {e}")));
    }

    /// Starts the script's emulator unless it runs: the concatenation of the given world
    /// files from the scratch directory (the quickstart's world by default), every exchange
    /// checked against Graph's contract. Its clock is frozen (the default options): time moves
    /// only by `emulator advance`, so that every run of a script sees the same times.
    fn ensure_emulator(&mut self, step: &Step, worlds: &[String]) {
        if self.emulator.is_some() {
            return;
        }
        let text = if worlds.is_empty() {
            std::fs::read_to_string(common::repo("examples/quickstart/world.yaml"))
                .expect("the quickstart's world")
        } else {
            let mut text = String::new();
            for w in worlds {
                let part = std::fs::read_to_string(self.dir.join(w))
                    .unwrap_or_else(|e| self.fail(step, &format!("world {w}: {e}")));
                text.push_str(&part);
                text.push('\n');
            }
            text
        };
        self.norm.keep_guids_in(&text);
        let world = mtoctl_emulator::world::WorldFile::parse(&text)
            .unwrap_or_else(|e| self.fail(step, &format!("world: {e}")));
        let (contract, server) = self
            .runtime
            .block_on(common::contract::serve_checked(&text, Default::default()));
        self.norm.port = Some(server.addr.port());
        self.emulator = Some(Running {
            server,
            world,
            contract,
        });
    }

    fn running(&self) -> &Running {
        self.emulator.as_ref().expect("started")
    }

    /// Runs the built binary in the scratch directory against the emulator, with only the
    /// environment a run needs (the quickstart's secrets, no colour, no terminal).
    fn mtoctl(&mut self, step: &Step, args: &[String]) {
        let base = self.running().server.base_url.clone();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mtoctl"));
        cmd.current_dir(&self.dir)
            .env_clear()
            .envs(
                ["PATH", "HOME", "TMPDIR"]
                    .into_iter()
                    .filter_map(|k| std::env::var_os(k).map(|v| (k, v))),
            )
            .envs(common::quickstart_env())
            .env("MTOCTL_GRAPH_URL", &base)
            .env("MTOCTL_LOGIN_URL", &base)
            .env("NO_COLOR", "1")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| self.fail(step, &format!("mtoctl: {e}")));
        let pipe = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = r.read_to_end(&mut buf);
                String::from_utf8_lossy(&buf).into_owned()
            })
        };
        let out = pipe(Box::new(child.stdout.take().expect("stdout")));
        let err = pipe(Box::new(child.stderr.take().expect("stderr")));
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("waits") {
                break status;
            }
            if started.elapsed() > RUN_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                self.fail(step, &format!("mtoctl still running after {RUN_LIMIT:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let code = status
            .code()
            .map_or_else(|| "killed by a signal".to_owned(), |c| c.to_string());
        let _ = writeln!(self.transcript, "[exit {code}]");
        let (stdout, stderr) = (out.join().expect("stdout"), err.join().expect("stderr"));
        self.record("stdout", &stdout);
        self.record("stderr", &progress_in_order(&stderr));
    }

    /// A tenant of the world by id, display name or domain (case-insensitive).
    fn tenant(&self, step: &Step, name: &str) -> mtoctl_emulator::world::TenantSpec {
        self.running()
            .world
            .tenants
            .iter()
            .find(|t| {
                [&t.id, &t.display_name, &t.domain]
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(name))
            })
            .cloned()
            .unwrap_or_else(|| self.fail(step, &format!("no tenant {name} in the world")))
    }

    /// A group's id from its display name (or id), read from the emulator's own state: the
    /// admin API addresses groups by id, which the world file does not fix.
    fn group_id(&self, step: &Step, tenant: &str, group: &str) -> String {
        let core = self.running().server.emulator.lock();
        core.state
            .tenants
            .get(tenant)
            .and_then(|t| {
                t.groups.iter().find(|g| {
                    g.id.eq_ignore_ascii_case(group) || g.display_name.eq_ignore_ascii_case(group)
                })
            })
            .map(|g| g.id.clone())
            .unwrap_or_else(|| self.fail(step, &format!("no group {group}")))
    }

    /// An admin call under `/_emulator/`; anything but a success fails the script (the admin
    /// API sets the scene, it is not what is tested).
    fn admin(&mut self, step: &Step, verb: &str, args: &[String]) {
        let body = |s: &str| -> Value {
            serde_json::from_str(s).unwrap_or_else(|e| self.fail(step, &format!("JSON: {e}")))
        };
        let tenant = |i: usize| self.tenant(step, &args[i]).id;
        let (method, path, payload) = match verb {
            "advance" => {
                let seconds: f64 = args[0]
                    .parse()
                    .unwrap_or_else(|_| self.fail(step, "advance takes seconds"));
                (
                    reqwest::Method::POST,
                    "/_emulator/advance".to_owned(),
                    Some(json!({ "seconds": seconds })),
                )
            }
            "fault" => (
                reqwest::Method::POST,
                "/_emulator/faults".to_owned(),
                Some(body(&args[0])),
            ),
            "faults" => (reqwest::Method::GET, "/_emulator/faults".to_owned(), None),
            "add-user" => (
                reqwest::Method::POST,
                format!("/_emulator/tenants/{}/users", tenant(0)),
                Some(body(&args[1])),
            ),
            "update-user" => (
                reqwest::Method::PATCH,
                format!("/_emulator/tenants/{}/users/{}", tenant(0), args[1]),
                Some(body(&args[2])),
            ),
            "delete-user" => (
                reqwest::Method::DELETE,
                format!("/_emulator/tenants/{}/users/{}", tenant(0), args[1]),
                None,
            ),
            "add-group" => (
                reqwest::Method::POST,
                format!("/_emulator/tenants/{}/groups", tenant(0)),
                Some(body(&args[1])),
            ),
            "add-member" => {
                let t = tenant(0);
                let g = self.group_id(step, &t, &args[1]);
                (
                    reqwest::Method::POST,
                    format!("/_emulator/tenants/{t}/groups/{g}/members"),
                    Some(json!({ "member": args[2] })),
                )
            }
            "remove-member" => {
                let t = tenant(0);
                let g = self.group_id(step, &t, &args[1]);
                (
                    reqwest::Method::DELETE,
                    format!("/_emulator/tenants/{t}/groups/{g}/members/{}", args[2]),
                    None,
                )
            }
            _ => unreachable!("parse() knows the verbs"),
        };
        let url = format!("{}{path}", self.running().server.base_url);
        let mut request = self.http.request(method, url);
        if let Some(p) = payload {
            request = request.json(&p);
        }
        let (status, answer) = self.send(step, request);
        if !status.is_success() {
            self.fail(step, &format!("{path} answered {status}: {answer}"));
        }
        self.answer(status, &answer);
    }

    /// An out-of-band Graph request as the tenant's first app registration in the world (an
    /// administrator in the portal), through the emulator's token endpoint and Graph v1.0.
    fn graph(&mut self, step: &Step, args: &[String], body: &str) {
        let tenant = self.tenant(step, &args[0]);
        let method: reqwest::Method = args[1]
            .to_ascii_uppercase()
            .parse()
            .unwrap_or_else(|_| self.fail(step, "not an HTTP method"));
        let base = self.running().server.base_url.clone();
        // A new token each time: one kept would expire as the script advances the clock.
        let app = tenant
            .apps
            .first()
            .unwrap_or_else(|| self.fail(step, "the tenant has no app registration"));
        let form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
            form_encode(&app.client_id),
            form_encode(app.secret.as_deref().unwrap_or_default()),
            form_encode("https://graph.microsoft.com/.default"),
        );
        let request = self
            .http
            .post(format!("{base}/{}/oauth2/v2.0/token", tenant.id))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form);
        let (status, answer) = self.send(step, request);
        let token = answer["access_token"]
            .as_str()
            .filter(|_| status.is_success())
            .unwrap_or_else(|| self.fail(step, &format!("token: {status} {answer}")))
            .to_owned();
        let mut request = self
            .http
            .request(method, format!("{base}/v1.0{}", args[2]))
            .bearer_auth(token);
        if !body.is_empty() {
            let payload: Value = serde_json::from_str(body)
                .unwrap_or_else(|e| self.fail(step, &format!("JSON: {e}")));
            request = request.json(&payload);
        }
        let (status, answer) = self.send(step, request);
        if !status.is_success() {
            self.fail(step, &format!("{} answered {status}: {answer}", args[2]));
        }
        self.answer(status, &answer);
    }

    fn send(&self, step: &Step, request: reqwest::RequestBuilder) -> (reqwest::StatusCode, Value) {
        self.runtime.block_on(async {
            let response = request
                .send()
                .await
                .unwrap_or_else(|e| self.fail(step, &format!("request: {e}")));
            let status = response.status();
            let bytes = response.bytes().await.unwrap_or_default();
            let answer = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
            };
            (status, answer)
        })
    }

    /// Records an answer: its status, and its JSON body if it has one.
    fn answer(&mut self, status: reqwest::StatusCode, answer: &Value) {
        let _ = writeln!(self.transcript, "[{}]", status.as_u16());
        if !answer.is_null() {
            let text = serde_json::to_string_pretty(answer).unwrap_or_default();
            self.record("answer", &format!("{text}\n"));
        }
    }
}

/// Words joined as they were written: one with a space in double quotes. (The JSON rest of
/// some emulator verbs, their last word, was not quoted and is not quoted back.)
fn quoted(words: &[String]) -> String {
    let words: Vec<String> = words
        .iter()
        .map(|w| {
            if w.contains(char::is_whitespace) && !w.starts_with(['{', '[']) {
                format!("\"{w}\"")
            } else {
                w.clone()
            }
        })
        .collect();
    words.join(" ")
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Normalisation: only what differs from run to run, each kind for its own reason.

struct Normaliser {
    /// The scratch directory: a temporary path with the test's process id in it.
    dir: String,
    /// The emulator's port: a free one, picked by the system.
    port: Option<u16>,
    /// GUIDs that mean something to the reader: those of the world file, the script and the
    /// files it writes (tenants, apps), and Graph's own constants.
    keep: BTreeSet<String>,
    /// Every other identifier, numbered by first appearance: objects created while the script
    /// runs get ids in the order concurrent requests reach the emulator.
    ids: HashMap<String, usize>,
}

impl Normaliser {
    fn new(dir: &Path) -> Self {
        let mut keep = BTreeSet::new();
        keep.insert(SYNC_TEMPLATE.to_owned());
        keep.insert("00000000-0000-0000-0000-000000000000".to_owned());
        Self {
            dir: dir.to_string_lossy().into_owned(),
            port: None,
            keep,
            ids: HashMap::new(),
        }
    }

    fn keep_guids_in(&mut self, text: &str) {
        for (start, end) in identifiers(text) {
            self.keep.insert(text[start..end].to_ascii_lowercase());
        }
    }

    fn apply(&mut self, text: &str) -> String {
        let mut text = text.replace(&self.dir, "<scratch>");
        if let Ok(canonical) = std::fs::canonicalize(&self.dir) {
            text = text.replace(&*canonical.to_string_lossy(), "<scratch>");
        }
        if let Some(port) = self.port {
            text = text.replace(&format!("127.0.0.1:{port}"), "127.0.0.1:<port>");
        }
        durations(&self.ids(&text))
    }

    fn ids(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in identifiers(text) {
            out.push_str(&text[at..start]);
            let id = text[start..end].to_ascii_lowercase();
            if self.keep.contains(&id) {
                out.push_str(&text[start..end]);
            } else {
                let next = self.ids.len() + 1;
                let n = *self.ids.entry(id).or_insert(next);
                let _ = write!(out, "<id-{n}>");
            }
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }
}

/// Byte ranges of GUIDs (8-4-4-4-12 hex digits) and of bare 32-hex-digit identifiers (the
/// parts of a synchronization job's id), not part of a longer word.
fn identifiers(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let word = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_alphanumeric());
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if (i > 0 && word(i - 1)) || !b[i].is_ascii_hexdigit() {
            i += 1;
            continue;
        }
        let guid = [8, 4, 4, 4, 12];
        let mut j = i;
        let mut ok = true;
        for (k, n) in guid.iter().enumerate() {
            if k > 0 {
                if b.get(j) != Some(&b'-') {
                    ok = false;
                    break;
                }
                j += 1;
            }
            if j + n > b.len() || !b[j..j + n].iter().all(u8::is_ascii_hexdigit) {
                ok = false;
                break;
            }
            j += n;
        }
        if ok && !word(j) {
            out.push((i, j));
            i = j;
            continue;
        }
        let run = b[i..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
        if run == 32 && !word(i + run) {
            out.push((i, i + run));
        }
        i += run.max(1);
    }
    out
}

/// Fractions of a second (`1.2s`) and milliseconds (`350ms`), as mtoctl writes a measured
/// time or a jittered retry delay, become `<duration>`: they differ from run to run. Whole
/// seconds, minutes and hours (`--wait 5m`, `up to 4h`) are settings and stay.
fn durations(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut at, mut i) = (0, 0);
    while i < b.len() {
        if !b[i].is_ascii_digit()
            || (i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'))
        {
            i += 1;
            continue;
        }
        let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
        let mut j = i + digits(i);
        let unit = if b.get(j) == Some(&b'.') && digits(j + 1) > 0 {
            j += 1 + digits(j + 1);
            "s"
        } else {
            "ms"
        };
        let end = j + unit.len();
        if text.get(j..end) == Some(unit) && !b.get(end).is_some_and(u8::is_ascii_alphanumeric) {
            out.push_str(&text[at..i]);
            out.push_str("<duration>");
            at = end;
            i = end;
        } else {
            i = j;
        }
    }
    out.push_str(&text[at..]);
    out
}

/// `mtoctl apply` reports each action's start and end on stderr as it happens (`[tenant] id
/// address: what...`, then `[tenant] id address: done`). Actions of both tenants, and several
/// of one, run at once, so the order of those lines is the scheduler's: each run of such
/// consecutive lines is sorted by tenant, action id, start before end. Every event stays;
/// only their interleaving goes (the report on stdout lists the actions in plan order).
fn progress_in_order(text: &str) -> String {
    fn key(line: &str) -> Option<(&str, &str, bool, &str)> {
        let (tag, rest) = line.strip_prefix('[')?.split_once("] ")?;
        let (id, rest) = rest.split_once(' ')?;
        Some((tag, id, !rest.ends_with("..."), rest))
    }
    let mut out: Vec<&str> = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    for line in text.lines() {
        if key(line).is_some() {
            run.push(line);
            continue;
        }
        run.sort_by_key(|l| key(l));
        out.append(&mut run);
        out.push(line);
    }
    run.sort_by_key(|l| key(l));
    out.append(&mut run);
    let mut joined = out.join("\n");
    if text.ends_with('\n') {
        joined.push('\n');
    }
    joined
}

// ---------------------------------------------------------------------------------------
// Golden files.

fn compare(name: &str, actual: &str) {
    let path = common::repo(&format!("tests/scripts/{name}.out"));
    let bless = std::env::var("MTOCTL_BLESS").is_ok_and(|v| !v.is_empty() && v != "0");
    if bless {
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "script {name}: no golden file {} ({e}); create it with `MTOCTL_BLESS=1 cargo test --test scripts`",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "script {name}: the transcript differs from tests/scripts/{name}.out (- expected, + actual):\n{}\nIf the change is intended: MTOCTL_BLESS=1 cargo test --test scripts",
            diff(&expected, actual)
        );
    }
}

/// A line diff (longest common subsequence) in hunks with three lines of context.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // Every line of either side: ' ' in both, '-' expected only, '+' actual only.
    let mut ops: Vec<(char, &str, usize, usize)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i], i, j));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            // Removals before additions, as `diff -u` shows a changed line.
            ops.push(('-', a[i], i, j));
            i += 1;
        } else {
            ops.push(('+', b[j], i, j));
            j += 1;
        }
    }
    const CONTEXT: usize = 3;
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let mut out = String::new();
    let mut k = 0;
    while k < changed.len() {
        let first = changed[k].saturating_sub(CONTEXT);
        let mut last = changed[k];
        while k + 1 < changed.len() && changed[k + 1] <= last + 2 * CONTEXT + 1 {
            k += 1;
            last = changed[k];
        }
        let last = (last + CONTEXT).min(ops.len() - 1);
        let (_, _, ai, bi) = ops[first];
        let _ = writeln!(
            out,
            "@@ expected line {}, actual line {} @@",
            ai + 1,
            bi + 1
        );
        for (op, line, _, _) in &ops[first..=last] {
            let _ = writeln!(out, "{op}{line}");
        }
        k += 1;
    }
    if out.is_empty() {
        out.push_str("(the lines are equal; the difference is in line endings)\n");
    }
    out
}

#[test]
fn the_diff_shows_changed_lines_with_context_and_normalisation_keeps_what_matters() {
    let d = diff("a\nb\nc\nd\n", "a\nB\nc\nd\ne\n");
    assert_eq!(
        d,
        "@@ expected line 1, actual line 1 @@\n a\n-b\n+B\n c\n d\n+e\n"
    );
    let mut n = Normaliser::new(Path::new("/tmp/x-1"));
    n.port = Some(4242);
    n.keep_guids_in("tenant 6babcaad-604b-40ac-a9d7-9fd97c0b779f");
    let text = "at http://127.0.0.1:4242 in /tmp/x-1/mto.yaml: 6BABCAAD-604b-40ac-a9d7-9fd97c0b779f \
                made 11111111-2222-4333-8444-555555555555 and 11111111-2222-4333-8444-555555555556, \
                again 11111111-2222-4333-8444-555555555555, job Azure2Azure.0123456789abcdef0123456789abcdef.x \
                at 2026-01-01T05:00:00Z; 3 users, exit 2, in 1.25s, retry in 350ms, up to 4h, 30s, v1.2";
    assert_eq!(
        n.apply(text),
        "at http://127.0.0.1:<port> in <scratch>/mto.yaml: 6BABCAAD-604b-40ac-a9d7-9fd97c0b779f \
         made <id-1> and <id-2>, again <id-1>, job Azure2Azure.<id-3>.x \
         at 2026-01-01T05:00:00Z; 3 users, exit 2, in <duration>, retry in <duration>, up to 4h, 30s, v1.2"
    );
    let progress = "Round 2\n[fabrikam] a002 x: done\n[contoso] a001 x: y...\n[contoso] a001 x: done\n\
                    [fabrikam] a002 x: y...\nwaiting\n[contoso] a003 x: done\n";
    assert_eq!(
        progress_in_order(progress),
        "Round 2\n[contoso] a001 x: y...\n[contoso] a001 x: done\n[fabrikam] a002 x: y...\n\
         [fabrikam] a002 x: done\nwaiting\n[contoso] a003 x: done\n"
    );
}

#[test]
fn the_parser_takes_quoted_words_json_rests_and_file_blocks() {
    let steps = parse(
        "t",
        "# c\nemulator add-member contoso \"Contoso Sales\" frank@x\nemulator fault {\"queue\": [\"serviceUnavailable\"]}\ngraph fabrikam PATCH /p {\"a\": 1}\nfile a.yaml\nx: 1\nend\nmtoctl plan -f a.yaml\n",
    );
    let kinds: Vec<String> = steps.iter().map(|s| format!("{:?}", s.kind)).collect();
    assert_eq!(
        kinds,
        [
            r##"Echo("# c")"##,
            r#"Emulator("add-member", ["contoso", "Contoso Sales", "frank@x"])"#,
            r#"Emulator("fault", ["{\"queue\": [\"serviceUnavailable\"]}"])"#,
            r#"Graph(["fabrikam", "PATCH", "/p"], "{\"a\": 1}")"#,
            r#"File("a.yaml", "x: 1\n")"#,
            r#"Mtoctl(["plan", "-f", "a.yaml"])"#,
        ]
    );
    assert_eq!(steps[5].line, 8, "lines are counted through file blocks");
}

#[test]
#[should_panic(expected = "script t, line 2: unknown emulator verb")]
fn the_parser_names_the_script_and_line_of_a_mistake() {
    parse("t", "# c\nemulator sleep 5\n");
}
