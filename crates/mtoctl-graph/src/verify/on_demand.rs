//! The two pieces of `provisionOnDemand` that are not plain JSON: the rule to name (a rule id
//! of the job's schema) and the answer, a `stringKeyStringValuePair` whose strings hold JSON.

use mtoctl_model::health::{OnDemandResult, OnDemandStep};
use serde_json::Value;

/// The id of the schema's rule to provision users with: the one whose metadata says it supports
/// provisioning on demand, else the first whose object mappings read source users, else the
/// first.
pub fn rule_id(schema: &Value) -> Option<String> {
    let rules = schema.get("synchronizationRules")?.as_array()?;
    let id = |r: &Value| r.get("id").and_then(Value::as_str).map(str::to_owned);
    let supports = |r: &Value| {
        r.get("metadata")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|kv| {
                kv.get("key").and_then(Value::as_str) == Some("supportsProvisionOnDemand")
                    && kv
                        .get("value")
                        .and_then(Value::as_str)
                        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
            })
    };
    let users = |r: &Value| {
        r.get("objectMappings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|m| {
                m.get("sourceObjectName")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case("User"))
            })
    };
    rules
        .iter()
        .find(|r| supports(r))
        .or_else(|| rules.iter().find(|r| users(r)))
        .or_else(|| rules.first())
        .and_then(id)
}

/// What `provisionOnDemand` answered for the user `source` (object id `id`): `{key, value}`,
/// where `value` is JSON in a string — one status (the reference's examples) or an array of
/// one status per subject (the cross-tenant how-to's answer), each with the steps,
/// `statusInfo` and `targetIdentity` — and `key` a type name or a JSON document with the
/// `result`. Read best-effort: what cannot be read is left out.
pub fn parse_answer(source: &str, id: &str, body: &Value) -> OnDemandResult {
    let inner = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
    };
    let value = match inner("value") {
        Some(Value::Array(statuses)) => {
            let about = |s: &&Value| {
                s.get("sourceIdentity")
                    .and_then(|i| i.get("id"))
                    .and_then(Value::as_str)
                    .is_some_and(|x| x.eq_ignore_ascii_case(id))
                    || s.get("reportableIdentifier")
                        .and_then(Value::as_str)
                        .is_some_and(|x| x.eq_ignore_ascii_case(source))
            };
            statuses
                .iter()
                .find(about)
                .or(statuses.first())
                .cloned()
                .unwrap_or(Value::Null)
        }
        Some(one) => one,
        None => Value::Null,
    };
    let key = inner("key").unwrap_or(Value::Null);
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let steps = value
        .get("provisioningSteps")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|s| OnDemandStep {
            name: text(s.get("name")),
            kind: text(s.get("type")),
            status: text(s.get("status")),
            description: text(s.get("description")),
        })
        .collect();
    let info = value.get("statusInfo");
    let error = [
        text(info.and_then(|i| i.get("errorCode")))
            .or_else(|| text(key.get("details").and_then(|d| d.get("errorCode")))),
        text(info.and_then(|i| i.get("reason")))
            .or_else(|| text(key.get("details").and_then(|d| d.get("errorMessage")))),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    OnDemandResult {
        source: source.to_owned(),
        status: text(info.and_then(|s| s.get("status"))).or_else(|| text(key.get("result"))),
        error: (!error.is_empty()).then(|| error.join(": ")),
        steps,
        target_id: text(value.get("targetIdentity").and_then(|t| t.get("id"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_that_supports_provisioning_on_demand_is_named() {
        let schema = serde_json::json!({"synchronizationRules": [
            {"id": "groups", "objectMappings": [{"sourceObjectName": "Group"}]},
            {"id": "users", "objectMappings": [{"sourceObjectName": "User"}]},
            {"id": "pod", "metadata": [{"key": "supportsProvisionOnDemand", "value": "true"}]}
        ]});
        assert_eq!(rule_id(&schema).as_deref(), Some("pod"));
        let schema = serde_json::json!({"synchronizationRules": [
            {"id": "groups", "objectMappings": [{"sourceObjectName": "Group"}]},
            {"id": "users", "objectMappings": [{"sourceObjectName": "User"}]}
        ]});
        assert_eq!(rule_id(&schema).as_deref(), Some("users"));
        assert_eq!(
            rule_id(&serde_json::json!({"synchronizationRules": []})),
            None
        );
    }

    #[test]
    fn the_reference_example_answer_is_read() {
        // v1.0 reference, "synchronizationJob: provisionOnDemand", example 1 (shortened).
        let body = serde_json::json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.stringKeyStringValuePair",
            "key": "{\"result\":\"Skipped\",\"details\":{\"errorCode\":\"RedundantExport\"}}",
            "value": "{\"action\":\"Other\",\"provisioningSteps\":[{\"name\":\"EntryImport\",\"type\":\"Import\",\"status\":\"Success\",\"description\":\"Retrieved User\"},{\"name\":\"EntrySynchronizationScoping\",\"type\":\"Scoping\",\"status\":\"Success\",\"description\":\"Determine if User in scope\"},{\"name\":\"EntrySynchronizationSkip\",\"type\":\"Export\",\"status\":\"Skipped\",\"description\":\"The state of the user in both the source and target systems already match.\"}],\"statusInfo\":{\"status\":\"Skipped\"},\"targetIdentity\":{\"id\":\"52507a19-96ec-4e73-9250-3e65ffd2d926\"}}"
        });
        let r = parse_answer("billbob@contoso.com", "62cf7b7a", &body);
        assert_eq!(r.status.as_deref(), Some("Skipped"));
        assert_eq!(r.steps.len(), 3);
        assert!(!r.out_of_scope());
        assert!(!r.failed());
        assert_eq!(
            r.reason(),
            Some("The state of the user in both the source and target systems already match.")
        );
        assert_eq!(
            r.target_id.as_deref(),
            Some("52507a19-96ec-4e73-9250-3e65ffd2d926")
        );
    }

    #[test]
    fn an_answer_that_is_not_json_inside_reads_as_nothing() {
        let r = parse_answer(
            "a@b",
            "1",
            &serde_json::json!({"key": "x", "value": "not json"}),
        );
        assert_eq!(r.status, None);
        assert!(r.steps.is_empty());
    }

    #[test]
    fn the_cross_tenant_answer_holds_an_array_of_statuses() {
        // The cross-tenant Graph how-to's answer (step 11): `value` an array, one status per
        // subject; here the second is the user's.
        let statuses = serde_json::json!([
            {"reportableIdentifier": "other@contoso.com", "sourceIdentity": {"id": "2"},
             "statusInfo": {"status": "Success"}, "provisioningSteps": []},
            {"reportableIdentifier": "user1@fabrikam.com", "sourceIdentity": {"id": "1"},
             "statusInfo": {"status": "Skipped", "errorCode": "NotEffectivelyEntitled"},
             "provisioningSteps": [
                {"name": "EntryImport", "type": "Import", "status": "Success", "description": "Retrieved User 'user1@fabrikam.com' from Azure Active Directory"},
                {"name": "EntrySynchronizationScoping", "type": "Scoping", "status": "Skipped", "description": "The User 'user1@fabrikam.com' will be skipped"}
             ]}
        ]);
        let body = serde_json::json!({
            "key": "Microsoft.Identity.Health.CPP.Common.DataContracts.SyncFabric.StatusInfo",
            "value": statuses.to_string()
        });
        let r = parse_answer("user1@fabrikam.com", "1", &body);
        assert_eq!(r.status.as_deref(), Some("Skipped"));
        assert!(r.out_of_scope());
        assert_eq!(
            r.reason(),
            Some("The User 'user1@fabrikam.com' will be skipped")
        );
    }
}
