//! The reads' requests and decoding: copy names, `in` filters, the source users' attributes,
//! the `$select`, and a job's health.

use super::copies::COPY_SELECT;
use super::*;
use crate::wire::sync;

#[test]
fn copies_are_found_by_the_upn_cross_tenant_sync_gives_them() {
    assert_eq!(
        copy_prefix("alice@contoso.com").as_deref(),
        Some("alice_contoso.com#EXT#@")
    );
    assert_eq!(copy_prefix("no-at-sign"), None);
    assert_eq!(copy_prefix("@contoso.com"), None);
}

#[test]
fn in_filters_hold_at_most_fifteen_values_and_are_encoded() {
    let upns: Vec<String> = (0..31)
        .map(|i| format!("u{i}_contoso.com#EXT#@fabrikam.onmicrosoft.com"))
        .collect();
    let paths = users_in_paths("userPrincipalName", &upns, COPY_SELECT);
    assert_eq!(paths.len(), 3);
    assert!(
        paths
            .iter()
            .all(|p| p.contains("%23EXT%23") && !p.contains('#'))
    );
    assert!(paths[0].contains(
        "$select=id,userPrincipalName,userType,accountEnabled,showInAddressList,identities"
    ));
}

#[test]
fn source_users_keep_the_filter_attributes_and_skip_other_members() {
    let user = source_user(serde_json::json!({
        "@odata.type": "#microsoft.graph.user",
        "id": "1", "userPrincipalName": "a@contoso.com", "userType": "Member",
        "accountEnabled": false, "department": "Sales", "unrelated": 1
    }))
    .expect("a user");
    assert_eq!(user.account_enabled, Some(false));
    assert_eq!(
        user.attributes.keys().collect::<Vec<_>>(),
        [
            "accountEnabled",
            "department",
            "userPrincipalName",
            "userType"
        ]
    );
    let group = serde_json::json!({"@odata.type": "#microsoft.graph.group", "id": "2"});
    assert!(source_user(group).is_none());
}

#[test]
fn the_select_adds_the_attributes_a_filter_reads() {
    use mtoctl_model::desired::{FilterClauseSpec, FilterGroupSpec, ScopeSpec};
    use mtoctl_model::spec::document::FilterOperator;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/quickstart/mto.yaml"
    ))
    .expect("the quickstart");
    let mut desired = mtoctl_model::spec::load("mto.yaml", text.as_bytes())
        .expect("valid")
        .desired;
    let sync = &mut desired.syncs[0];
    sync.scope = ScopeSpec {
        filter: vec![FilterGroupSpec {
            name: "sales".into(),
            clauses: vec![
                FilterClauseSpec {
                    attribute: "Department".into(),
                    operator: FilterOperator::Equals,
                    values: vec!["Sales".into()],
                },
                FilterClauseSpec {
                    attribute: "extension_abc_costCenter".into(),
                    operator: FilterOperator::Equals,
                    values: vec!["1".into()],
                },
            ],
        }],
        ..sync.scope.clone()
    };
    assert_eq!(
        source_select([&*sync]),
        "id,userPrincipalName,userType,accountEnabled,department"
    );
}

#[test]
fn the_placeholder_before_a_first_cycle_is_no_failed_cycle() {
    // The shape the Entra how-to shows for a started job that has not run (NotRun).
    let job: sync::Job = serde_json::from_value(serde_json::json!({
        "id": "Azure2Azure.x",
        "schedule": {"state": "Active"},
        "status": {
            "code": "NotRun", "countSuccessiveCompleteFailures": 0,
            "lastSuccessfulExecution": null,
            "lastExecution": {"activityIdentifier": null, "countEntitled": 0, "countExported": 0,
                "state": "Failed", "timeBegan": "0001-01-01T00:00:00Z",
                "timeEnded": "0001-01-01T00:00:00Z",
                "error": {"code": "None", "message": "", "tenantActionable": false}},
            "synchronizedEntryCountByType": []
        }
    }))
    .unwrap();
    let h = job_health(job);
    assert!(h.last_cycle.is_none(), "{:?}", h.last_cycle);
    assert_eq!(h.in_scope, None);
}

#[test]
fn a_quarantined_job_says_why() {
    let job: sync::Job = serde_json::from_value(serde_json::json!({
        "id": "Azure2Azure.x",
        "schedule": {"state": "Active"},
        "status": {
            "code": "Quarantine",
            "countSuccessiveCompleteFailures": 3,
            "quarantine": {"reason": "EncounteredQuarantineException",
                           "error": {"code": "AzureDirectoryB2BManagementPolicyCheckFailure",
                                     "message": "Policy permitting auto-redemption of invitations not configured."}},
            "lastExecution": {"state": "Failed", "timeEnded": "2026-01-01T00:00:00Z", "countEntitled": 0,
                              "error": {"code": "AzureDirectoryB2BManagementPolicyCheckFailure", "message": "m"}},
            "synchronizedEntryCountByType": [{"key": "User", "value": 7}]
        }
    }))
    .unwrap();
    let h = job_health(job);
    assert_eq!(h.status_code.as_deref(), Some("Quarantine"));
    assert_eq!(
        h.quarantine.as_deref(),
        Some(
            "EncounteredQuarantineException: Policy permitting auto-redemption of invitations not configured."
        )
    );
    assert_eq!(h.synchronized, Some(7));
    assert_eq!(h.successive_failures, Some(3));
    assert_eq!(
        h.last_cycle.and_then(|c| c.error_code).as_deref(),
        Some("AzureDirectoryB2BManagementPolicyCheckFailure")
    );
}
