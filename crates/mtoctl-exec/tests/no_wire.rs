//! The executor holds no wire: only `mtoctl-graph` knows Graph's URLs and JSON
//! (ARCHITECTURE.md, principle 5). Its non-test source is scanned for JSON, paths, URLs and
//! Graph's enum and property spellings, and its manifest for the crates it must not use.

use std::path::{Path, PathBuf};

/// Graph's spellings of enum values and properties the executor once compared or picked out;
/// typed values (`mtoctl_graph::objects`, `mtoctl_model::observed`) stand for them now.
const GRAPH_LITERALS: &[&str] = &[
    // Enum values.
    "Active",
    "Disabled",
    "Paused",
    "active",
    "inactive",
    "pending",
    "removed",
    "owner",
    "member",
    "notStarted",
    "running",
    "succeeded",
    "failed",
    "Succeeded",
    "Failed",
    "Azure2Azure",
    "Quarantine",
    // Properties.
    "id",
    "state",
    "role",
    "status",
    "value",
    "schedule",
    "tenantId",
    "displayName",
    "memberState",
    "transitionDetails",
    "desiredRole",
    "identitySynchronization",
    "userSyncInbound",
    "isSyncAllowed",
    "servicePrincipal",
    "principalId",
    "appRoleId",
    "appId",
    "createdDateTime",
    "templateId",
    "synchronizationRules",
];

/// Pieces of OData queries and annotations.
const ODATA: &[&str] = &["$filter", "$select", "$expand", "$top", "$batch", "@odata"];

/// One finding: the file, the line, and what is there.
fn findings(file: &Path, code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let at = |offset: usize| code[..offset].matches('\n').count() + 1;
    let mut report = |offset: usize, what: String| {
        found.push(format!("{}:{}: {what}", file.display(), at(offset)));
    };
    for needle in ["serde_json", "json!", "https://", "http://"] {
        for (offset, _) in code.match_indices(needle) {
            report(offset, format!("`{needle}`"));
        }
    }
    for (offset, text) in string_literals(&without_attributes(code)) {
        if text.starts_with('/') {
            report(offset, format!("a Graph path {text:?}"));
        } else if GRAPH_LITERALS.contains(&text.as_str()) {
            report(offset, format!("the Graph literal {text:?}"));
        } else if let Some(o) = ODATA.iter().find(|o| text.contains(*o)) {
            report(offset, format!("OData `{o}` in {text:?}"));
        }
    }
    found
}

/// The source without comments, with every `#[cfg(test)]` module written inline left out; the
/// names of those declared in files of their own (`#[cfg(test)] mod tests;`).
fn non_test(source: &str) -> (String, Vec<String>) {
    let code = without_comments(source);
    let mut kept = String::new();
    let mut test_files = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        kept.push_str(&rest[..at]);
        let after = rest[at + "#[cfg(test)]".len()..].trim_start();
        let Some(module) = after.strip_prefix("mod ") else {
            kept.push_str("#[cfg(test)]");
            rest = &rest[at + "#[cfg(test)]".len()..];
            continue;
        };
        let name_end = module
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(module.len());
        let (name, body) = module.split_at(name_end);
        let body = body.trim_start();
        if let Some(after_decl) = body.strip_prefix(';') {
            test_files.push(name.to_owned());
            rest = after_decl;
        } else {
            rest = &body[block_end(body)..];
        }
    }
    kept.push_str(rest);
    (kept, test_files)
}

/// Where the block that `text` opens with `{` ends (just past its `}`), skipping braces in
/// string and character literals.
fn block_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_end(text, i),
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => i += 3,
            b'\'' if bytes.get(i + 1) == Some(&b'\\') => {
                i += text[i + 2..].find('\'').map_or(bytes.len(), |n| n + 3)
            }
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Just past the end of the string literal whose opening quote is at `start`.
fn string_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let hashes = text[..start]
        .chars()
        .rev()
        .take_while(|c| *c == '#')
        .count();
    let raw = text[..start - hashes].ends_with('r');
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if !raw => i += 2,
            b'"' if bytes[i + 1..].iter().take(hashes).all(|b| *b == b'#')
                && i + hashes < bytes.len() =>
            {
                return i + 1 + hashes;
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The code with its attributes (`#[serde(tag = "status")]`, which name mtoctl's own formats)
/// blanked out, offsets kept.
fn without_attributes(code: &str) -> String {
    let bytes = code.as_bytes();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            let end = string_end(code, i);
            out.push_str(&code[i..end]);
            i = end;
        } else if code[i..].starts_with("#[") || code[i..].starts_with("#![") {
            let mut depth = 0usize;
            let mut j = i;
            while j < bytes.len() {
                match bytes[j] {
                    b'"' => {
                        j = string_end(code, j);
                        continue;
                    }
                    b'[' => depth += 1,
                    b']' => {
                        depth -= 1;
                        if depth == 0 {
                            j += 1;
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            out.extend(code[i..j].chars().map(|c| if c == '\n' { c } else { ' ' }));
            i = j;
        } else {
            let c = code[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Every string literal (plain or raw) with its offset, its text as written.
fn string_literals(code: &str) -> Vec<(usize, String)> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let end = string_end(code, i);
                let hashes = code[..i].chars().rev().take_while(|c| *c == '#').count();
                let close = end.saturating_sub(1 + hashes).max(i + 1);
                out.push((i, code[i + 1..close].to_owned()));
                i = end;
            }
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => i += 3,
            _ => i += 1,
        }
    }
    out
}

/// The source with its `//` and `/* */` comments blanked out (line breaks kept), strings
/// left alone.
fn without_comments(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            let end = string_end(source, i);
            out.push_str(&source[i..end]);
            i = end;
        } else if source[i..].starts_with("//") {
            let end = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
            i = end;
        } else if source[i..].starts_with("/*") {
            let end = source[i..].find("*/").map_or(bytes.len(), |n| i + n + 2);
            out.extend(source[i..end].chars().filter(|c| *c == '\n'));
            i = end;
        } else {
            let c = source[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The non-test Rust files of the crate's `src`, with their test-only parts left out.
fn sources(root: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut skipped: Vec<PathBuf> = Vec::new();
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    for path in &files {
        let source = std::fs::read_to_string(path).expect("a source file");
        let (code, test_modules) = non_test(&source);
        // A module's children live beside `lib.rs`/`mod.rs`, or in a directory of its name.
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let parent = path.parent().unwrap_or(root);
        let children = if matches!(stem, "lib" | "mod" | "main") {
            parent.to_path_buf()
        } else {
            parent.join(stem)
        };
        for name in test_modules {
            skipped.push(children.join(format!("{name}.rs")));
            skipped.push(children.join(name));
        }
        out.push((path.clone(), code));
    }
    out.retain(|(path, _)| !skipped.iter().any(|s| path.starts_with(s)));
    out
}

#[test]
fn the_executor_holds_no_json_no_graph_literal_and_no_url() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let scanned = sources(&root);
    assert!(
        scanned.iter().any(|(p, _)| p.ends_with("ops/mod.rs")),
        "the scan reaches the operations: {:?}",
        scanned.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    let found: Vec<String> = scanned
        .iter()
        .flat_map(|(path, code)| findings(path.strip_prefix(&root).unwrap_or(path), code))
        .collect();
    assert!(
        found.is_empty(),
        "mtoctl-exec's source holds wire details that belong in mtoctl-graph:\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn the_executor_depends_on_neither_serde_json_nor_the_planner() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("the manifest");
    let mut section = "";
    let mut found = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        let name = line.split(['=', '.', ' ']).next().unwrap_or("");
        let forbidden = match section {
            "[dependencies]" => ["serde_json", "mtoctl-planner"].contains(&name),
            "[dev-dependencies]" | "[build-dependencies]" => name == "mtoctl-planner",
            _ => false,
        };
        if forbidden {
            found.push(format!("{section} {line}"));
        }
    }
    assert!(found.is_empty(), "mtoctl-exec's Cargo.toml: {found:?}");
}

#[test]
fn the_scan_sees_what_it_looks_for_and_skips_tests_and_comments() {
    let source = r##"
// "Active" in a comment is fine, and so is https:// there.
fn a() { let _ = "Active"; let _ = "/servicePrincipals"; let _ = r#"?$filter=x"#; }
/* "owner" */
fn b() { let _ = '{'; let _ = "a { brace"; let _ = "waiting for {tenant}"; }
#[cfg(test)]
mod tests {
    fn c() { let _ = "Paused"; let _ = '}'; let _ = serde_json::json!({}); }
}
#[cfg(test)]
mod more;
fn d() { let _ = "failed"; }
#[serde(tag = "status")]
struct E;
"##;
    let (code, test_files) = non_test(source);
    assert_eq!(test_files, ["more"]);
    let found = findings(Path::new("x.rs"), &code);
    let what: Vec<&str> = found
        .iter()
        .map(|f| f.split_once(": ").map_or("", |x| x.1))
        .collect();
    assert_eq!(
        what,
        [
            "the Graph literal \"Active\"",
            "a Graph path \"/servicePrincipals\"",
            "OData `$filter` in \"?$filter=x\"",
            "the Graph literal \"failed\"",
        ],
        "{found:?}"
    );
    assert!(found[0].starts_with("x.rs:3: "), "{found:?}");
}
