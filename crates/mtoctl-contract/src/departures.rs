//! Where mtoctl's emulator knowingly departs from the metadata (docs/emulator.md, "Where answers
//! depart from the v1.0 metadata"), and the few operations the full v1.0 metadata declares but
//! this trimmed copy does not: what a harness checking the emulator's exchanges must know besides
//! the contract.

use crate::Contract;
use crate::log::Exchange;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// The request.
    Request,
    /// The answer.
    Answer,
}

/// Whether `problem` is one of the emulator's documented departures from the metadata
/// (docs/emulator.md, "Where answers depart from the v1.0 metadata"). Each rule matches one
/// property of one exchange only.
pub(crate) fn departs_by_design(x: &Exchange<'_>, side: Side, problem: &str) -> bool {
    let path = x.path.split('?').next().unwrap_or_default();
    match side {
        // A tenant in no organization: the API reference's example shows no `id`.
        Side::Answer if path == "/tenantRelationships/multiTenantOrganization" => {
            problem == "answer: non-nullable property `id` of multiTenantOrganization missing"
                && x.answer
                    .and_then(|a| a.get("state"))
                    .is_some_and(|s| s == "inactive")
        }
        // The API reference's example names each operator `name` (the metadata: `id`, also sent).
        Side::Answer if path.ends_with("/schema/filterOperators") => {
            problem.starts_with("answer.value[")
                && problem.ends_with("].name is not a property of filterOperatorSchema")
        }
        // Microsoft's how-to turns a template off with `""` (graph-reference §5.3).
        Side::Request
            if x.method == "PATCH"
                && path.starts_with("/policies/crossTenantAccessPolicy/templates/") =>
        {
            problem.starts_with("body.templateApplicationLevel: `` is not a member of flags enum")
        }
        // Property names in any case (user_lookup's property test sends `uSERPrINciPAlNaME`).
        Side::Request if x.method == "GET" && path == "/users" => {
            ["$filter: `", "$select: `"].iter().any(|option| {
                problem
                    .strip_prefix(option)
                    .and_then(|p| {
                        p.strip_suffix("` is not a structural or navigation property of user")
                    })
                    .is_some_and(|name| {
                        ["id", "userPrincipalName"]
                            .iter()
                            .any(|known| name != *known && name.eq_ignore_ascii_case(known))
                    })
            })
        }
        _ => false,
    }
}

/// The findings of an operation the full v1.0 metadata declares but the contract's trimmed
/// copy (`crates/mtoctl-contract/data`, cut to the bindings mtoctl uses) does not: checked as
/// what it is. `None` for every other exchange.
pub(crate) fn not_in_trimmed_file(x: &Exchange<'_>) -> Option<Vec<String>> {
    let (path, query) = x.path.split_once('?').unwrap_or((x.path, ""));
    let ok = (200..300).contains(&x.status);
    let mut found = Vec::new();
    match (x.method, path) {
        // `delta` bound to Collection(user) / Collection(group), returning the same: checked as
        // the list (less the delta tokens); removed items carry only `id` and `@removed`.
        ("GET", "/users/delta" | "/groups/delta") => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|p| {
                    !p.is_empty() && !p.starts_with("$deltatoken=") && !p.starts_with("$skiptoken=")
                })
                .collect();
            let list = with_query(path.trim_end_matches("/delta"), &kept.join("&"));
            let mut answer = x.answer.cloned();
            if let Some(items) = answer
                .as_mut()
                .and_then(|a| a.get_mut("value"))
                .and_then(|v| v.as_array_mut())
            {
                items.retain(|item| {
                    let Some(o) = item.as_object().filter(|o| o.contains_key("@removed")) else {
                        return true;
                    };
                    for k in o.keys().filter(|k| *k != "id" && *k != "@removed") {
                        found.push(format!(
                            "answer GET {}: a removed item carries `{k}` (only `id` and `@removed`)",
                            x.path
                        ));
                    }
                    false
                });
            }
            as_list(&mut found, x, &list, ok, answer.as_ref());
        }
        // `getByIds(ids: Collection(String), types: Collection(String))` bound to
        // Collection(directoryObject), returning Collection(directoryObject).
        ("POST", "/directoryObjects/getByIds") => {
            if ok {
                match x.body.and_then(|b| b.as_object()) {
                    None => found.push(format!(
                        "request POST {}: body of action `getByIds` must be a JSON object",
                        x.path
                    )),
                    Some(o) => {
                        for (k, v) in o {
                            let strings = v
                                .as_array()
                                .is_some_and(|a| a.iter().all(|s| s.is_string()));
                            if !["ids", "types"].contains(&k.as_str()) {
                                found.push(format!("request POST {}: body.{k} is not a parameter of action `getByIds` (parameters: ids, types)", x.path));
                            } else if !strings {
                                found.push(format!(
                                    "request POST {}: body.{k} must be a list of strings",
                                    x.path
                                ));
                            }
                        }
                    }
                }
            }
            as_list(
                &mut found,
                x,
                &with_query("/directoryObjects", query),
                ok,
                x.answer,
            );
        }
        // `resetToSystemDefault()` bound to crossTenantAccessPolicyConfigurationDefault: no
        // parameters, no result.
        ("POST", "/policies/crossTenantAccessPolicy/default/resetToSystemDefault") => {
            let empty = x
                .body
                .is_none_or(|b| b.as_object().is_some_and(|o| o.is_empty()));
            if ok && (!empty || !query.is_empty()) {
                found.push(format!(
                    "request POST {}: action `resetToSystemDefault` takes no parameters",
                    x.path
                ));
            }
        }
        _ => return None,
    }
    Some(found)
}

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// Checks `x` as `GET list` (its query options and its answer `answer`).
fn as_list(
    found: &mut Vec<String>,
    x: &Exchange<'_>,
    list: &str,
    ok: bool,
    answer: Option<&serde_json::Value>,
) {
    let contract = Contract::v1();
    if ok {
        found.extend(
            contract
                .check_request("GET", list, None)
                .iter()
                .map(|f| format!("request {} {} (as {f})", x.method, x.path)),
        );
    }
    found.extend(
        contract
            .check_answer("GET", list, x.status, answer)
            .iter()
            .map(|f| format!("answer {} {} (as {f})", x.method, x.path)),
    );
}
