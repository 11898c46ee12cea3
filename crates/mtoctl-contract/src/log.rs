//! A log of checked exchanges, for the harnesses that run every request and answer of a test's
//! emulator through the [`Contract`]: findings deduplicated (ids and list indices written as
//! `{id}` and `[]`, so a finding is listed once however many objects it was seen on), the routes
//! called, and a check that fails with every finding.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::Contract;
use crate::departures::{Side, departs_by_design, not_in_trimmed_file};

/// Most distinct findings kept (each is printed).
const MAX_FINDINGS: usize = 500;

/// One request carried out, and its answer.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// `v1.0` or `beta`.
    pub version: &'a str,
    /// Upper-case method.
    pub method: &'a str,
    /// Path after the version with its query, as sent.
    pub path: &'a str,
    /// The request's JSON body.
    pub body: Option<&'a Value>,
    /// The answer's status.
    pub status: u16,
    /// The answer's JSON body.
    pub answer: Option<&'a Value>,
}

/// Which requests a [`Log`] holds to the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requests {
    /// Every one: a client's requests. A `beta` one is checked against the beta contract where it
    /// covers the path (the identity sync policy of a partner, [`Contract::covers`]), and is a
    /// finding elsewhere (mtoctl uses v1.0, and beta only for that policy's `groupSyncInbound`).
    All,
    /// Those answered 2xx: a test of the emulator sends bad requests on purpose and expects them
    /// refused. `beta` ones are checked where the beta contract covers the path, left out
    /// elsewhere.
    Accepted,
}

/// The findings of every exchange seen so far.
#[derive(Debug)]
pub struct Log {
    requests: Requests,
    findings: Mutex<BTreeSet<String>>,
    routes: Mutex<BTreeSet<String>>,
    seen: AtomicUsize,
    answers: AtomicUsize,
}

impl Log {
    /// An empty log that holds `requests` to the contract, and every answer.
    pub fn new(requests: Requests) -> Self {
        Self {
            requests,
            findings: Mutex::default(),
            routes: Mutex::default(),
            seen: AtomicUsize::new(0),
            answers: AtomicUsize::new(0),
        }
    }

    /// Checks one exchange and keeps what it found.
    pub fn check(&self, x: &Exchange<'_>) {
        let route = x.path.split('?').next().unwrap_or_default();
        lock(&self.routes).insert(without_ids(&format!("{} {route}", x.method)));
        self.seen.fetch_add(1, Ordering::Relaxed);
        if (200..300).contains(&x.status) && x.answer.is_some() {
            self.answers.fetch_add(1, Ordering::Relaxed);
        }
        let found = self.findings_of(x);
        if found.is_empty() {
            return;
        }
        let mut all = lock(&self.findings);
        for f in found {
            if all.len() < MAX_FINDINGS {
                all.insert(without_ids(&f));
            }
        }
    }

    /// The findings of one exchange, without keeping them.
    pub fn findings_of(&self, x: &Exchange<'_>) -> Vec<String> {
        let contract = match x.version {
            "v1.0" => Contract::v1(),
            "beta" if Contract::beta().covers(x.path) => Contract::beta(),
            // A spec opted into group sync reads its partners on beta with their identity sync
            // policies expanded. Beta's partner type is not in the overlay (the public beta
            // names and the Entra how-to disagree on four of its properties, graph-facts.md
            // open question 3), so this one read is accepted unchecked; the identity sync
            // policy's own paths are checked.
            "beta" if crate::is_partner_read_with_sync(x.path) && x.method == "GET" => {
                return Vec::new();
            }
            // The public beta metadata is not in this crate, only the overlay's types: any other
            // beta path would be judged by v1.0's shapes, so it is not checked.
            _ => {
                return match self.requests {
                    Requests::All => vec![format!(
                        "request {} /{}{}: mtoctl uses only v1.0, and beta only for the identity sync policy of a partner (the beta contract's paths)",
                        x.method, x.version, x.path
                    )],
                    Requests::Accepted => Vec::new(),
                };
            }
        };
        if x.version == "v1.0"
            && let Some(found) = not_in_trimmed_file(x)
        {
            return found;
        }
        let mut found = Vec::new();
        if self.requests == Requests::All || (200..300).contains(&x.status) {
            found.extend(
                contract
                    .check_request(x.method, x.path, x.body)
                    .into_iter()
                    .filter(|f| !departs_by_design(x, Side::Request, &f.problem))
                    .map(|f| format!("request {f}")),
            );
        }
        found.extend(
            contract
                .check_answer(x.method, x.path, x.status, x.answer)
                .into_iter()
                .filter(|f| !departs_by_design(x, Side::Answer, &f.problem))
                .map(|f| format!("answer {f}")),
        );
        found
    }

    /// How many exchanges were checked, and how many of their answers had a body to check.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.seen.load(Ordering::Relaxed),
            self.answers.load(Ordering::Relaxed),
        )
    }

    /// Every distinct `METHOD /path` seen so far, ids written as `{id}`.
    pub fn routes(&self) -> BTreeSet<String> {
        lock(&self.routes).clone()
    }

    /// The distinct findings so far.
    pub fn findings(&self) -> Vec<String> {
        lock(&self.findings).iter().cloned().collect()
    }

    /// Panics with every finding, if there is one.
    pub fn assert_clean(&self) {
        let findings = self.findings();
        assert!(
            findings.is_empty(),
            "{} request(s) or answer(s) break Graph v1.0's published contract:\n{}",
            findings.len(),
            findings.join("\n")
        );
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `text` with object ids written as `{id}`, so a finding is listed once however many objects
/// it was seen on: GUIDs, job ids (`Azure2Azure.<hex>.<hex>`) and assignment ids (after
/// `appRoleAssignedTo`); list indices as `[]`.
pub fn without_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous = "";
    for (i, part) in text.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let (segment, rest) = match part.find(['?', ':', ' ']) {
            Some(at) => part.split_at(at),
            None => (part, ""),
        };
        let hex_guid =
            segment.len() == 36 && segment.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        let job = segment.starts_with("Azure2Azure.");
        let assignment = previous == "appRoleAssignedTo";
        previous = segment;
        if hex_guid || job || assignment {
            out.push_str("{id}");
        } else {
            out.push_str(segment);
        }
        out.push_str(rest);
    }
    let mut plain = String::with_capacity(out.len());
    let mut chars = out.chars().peekable();
    while let Some(c) = chars.next() {
        plain.push(c);
        if c == '[' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
        }
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The check the emulator's tests run reports what it should: undeclared
    /// properties, also in the operations it checks as lists (delta, getByIds), requests only when
    /// answered 2xx, and nothing on beta.
    #[test]
    fn the_contract_check_reports_undeclared_properties() {
        let log = Log::new(Requests::Accepted);
        let findings_of = |x: &Exchange<'_>| log.findings_of(x);
        fn x<'a>(
            method: &'a str,
            path: &'a str,
            body: Option<&'a Value>,
            status: u16,
            answer: Option<&'a Value>,
        ) -> Exchange<'a> {
            Exchange {
                version: "v1.0",
                method,
                path,
                body,
                status,
                answer,
            }
        }
        let removed = json!({"value": [
            {"id": "1", "userPrincipalName": "a@x"},
            {"id": "2", "@removed": {"reason": "changed"}}
        ], "@odata.deltaLink": "http://x/v1.0/users/delta?$deltatoken=t"});
        let delta = "/users/delta?$select=id,userPrincipalName&$deltatoken=t";
        assert_eq!(
            findings_of(&x("GET", delta, None, 200, Some(&removed))),
            Vec::<String>::new()
        );
        let bad = json!({"value": [
            {"id": "1", "colour": "red"},
            {"id": "2", "@removed": {"reason": "changed"}, "displayName": "B"}
        ]});
        let found = findings_of(&x("GET", delta, None, 200, Some(&bad)));
        assert_eq!(found.len(), 2, "{found:#?}");

        let by_ids = json!({"value": [{"@odata.type": "#microsoft.graph.group", "id": "1", "colour": "red"}]});
        let found = findings_of(&x(
            "POST",
            "/directoryObjects/getByIds",
            Some(&json!({"idz": ["1"]})),
            200,
            Some(&by_ids),
        ));
        assert_eq!(found.len(), 2, "{found:#?}");

        // A refused request is expected to be bad; its (error) answer is not checked either.
        let patch = Some(json!({"colour": "red"}));
        let path = "/policies/crossTenantAccessPolicy/default";
        assert!(findings_of(&x("PATCH", path, patch.as_ref(), 400, None)).is_empty());
        assert_eq!(
            findings_of(&x("PATCH", path, patch.as_ref(), 204, None)).len(),
            1
        );
        let beta = Exchange {
            version: "beta",
            ..x("PATCH", path, patch.as_ref(), 204, None)
        };
        assert!(findings_of(&beta).is_empty(), "not a path beta covers");
    }

    /// Beta exchanges on the identity sync policy are checked against the beta overlay: its
    /// `groupSyncInbound` is declared there (and still not on v1.0), undeclared names are
    /// findings; other beta paths are skipped, or (a client's) findings.
    #[test]
    fn beta_identity_sync_policies_are_checked_against_the_beta_overlay() {
        let path = "/policies/crossTenantAccessPolicy/partners/6babcaad-604b-40ac-a9d7-9fd97c0b779f/identitySynchronization";
        let x = |version: &'static str, method: &'static str, body: Option<&'static Value>| {
            move |answer: Option<&'static Value>| Exchange {
                version,
                method,
                path,
                body,
                status: if answer.is_some() { 200 } else { 204 },
                answer,
            }
        };
        let leak = |v: Value| -> &'static Value { Box::leak(Box::new(v)) };
        let both = leak(json!({"displayName": "Fabrikam",
            "groupSyncInbound": {"isSyncAllowed": true}, "userSyncInbound": {"isSyncAllowed": true}}));
        let client = Log::new(Requests::All);
        assert_eq!(
            client.findings_of(&x("beta", "PUT", Some(both))(None)),
            Vec::<String>::new()
        );
        let on_v1 = client.findings_of(&x("v1.0", "PUT", Some(both))(None));
        assert_eq!(on_v1.len(), 1, "{on_v1:#?}");
        assert!(on_v1[0].contains("groupSyncInbound"), "{on_v1:?}");
        let got = leak(
            json!({"@odata.context": "https://graph.microsoft.com/beta/$metadata#policies/crossTenantAccessPolicy/partners('x')/identitySynchronization/$entity",
            "tenantId": "x", "displayName": null, "userSyncInbound": {"isSyncAllowed": true},
            "groupSyncInbound": null}),
        );
        assert!(
            client
                .findings_of(&x("beta", "GET", None)(Some(got)))
                .is_empty()
        );
        let bad = leak(
            json!({"tenantId": "x", "groupSyncInbound": {"isSyncAllowed": null},
            "roleEnabledGroupSyncInbound": {"isSyncAllowed": true}}),
        );
        let found = client.findings_of(&x("beta", "GET", None)(Some(bad)));
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found
                .iter()
                .any(|f| f.contains("groupSyncInbound.isSyncAllowed"))
        );
        assert!(
            found
                .iter()
                .any(|f| f.contains("roleEnabledGroupSyncInbound"))
        );
        // A beta path the overlay does not cover.
        let deleted = Exchange {
            path: "/policies/deletedItems/crossTenantSyncPolicyPartners",
            ..x("beta", "GET", None)(Some(got))
        };
        assert_eq!(client.findings_of(&deleted).len(), 1);
        assert!(
            Log::new(Requests::Accepted)
                .findings_of(&deleted)
                .is_empty()
        );
    }

    #[test]
    fn ids_and_indices_are_written_once() {
        assert_eq!(
            without_ids(
                "answer GET /servicePrincipals/6babcaad-604b-40ac-a9d7-9fd97c0b779f/appRoleAssignedTo/abc_DEF: answer.value[12].x"
            ),
            "answer GET /servicePrincipals/{id}/appRoleAssignedTo/{id}: answer.value[].x"
        );
    }
}
