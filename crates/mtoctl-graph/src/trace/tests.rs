//! The attribute-to-property map, an event's reason, and the message for a user no source
//! tenant has.

use super::answers::WireEvent;
use super::source::user_property;
use super::*;

#[test]
fn filter_attributes_map_to_user_properties() {
    assert_eq!(user_property("department"), Some(("department", None)));
    assert_eq!(
        user_property("AccountEnabled"),
        Some(("accountEnabled", None))
    );
    assert_eq!(
        user_property("extensionAttribute7"),
        Some((
            "onPremisesExtensionAttributes",
            Some("extensionAttribute7".into())
        ))
    );
    assert_eq!(user_property("extensionAttribute16"), None);
    assert_eq!(user_property("somethingElse"), None);
}

#[test]
fn an_event_says_why_it_failed() {
    let event: WireEvent = serde_json::from_value(serde_json::json!({
        "activityDateTime": "2026-01-01T00:00:00Z",
        "provisioningAction": "create",
        "provisioningStatusInfo": {"status": "failure", "errorInformation": {
            "errorCode": "EntryLevelError", "reason": "UPN taken", "additionalDetails": null}},
        "provisioningSteps": [
            {"name": "EntryImport", "status": "success", "description": "read"},
            {"name": "EntryExportAdd", "status": "failure", "description": "could not add"}],
        "targetIdentity": {"id": "", "displayName": "Alice"}
    }))
    .unwrap();
    let e = event.event();
    assert_eq!(e.status.as_deref(), Some("failure"));
    assert_eq!(e.reason.as_deref(), Some("UPN taken"));
    assert_eq!(e.failing_step.as_deref(), Some("EntryExportAdd"));
    assert_eq!(e.target_id, None);

    let skipped: WireEvent = serde_json::from_value(serde_json::json!({
        "provisioningAction": "other",
        "provisioningStatusInfo": {"status": "skipped", "errorInformation": null},
        "provisioningSteps": [{"name": "EntrySynchronizationScoping", "status": "skipped",
                               "description": "not in scope"}]
    }))
    .unwrap();
    assert_eq!(skipped.event().reason.as_deref(), Some("not in scope"));
}

#[test]
fn a_missing_user_is_named_with_the_closest_upns() {
    let text = not_found(
        "bobb@contoso.com",
        &[Alias("contoso".into()), Alias("fabrikam".into())],
        &["bob@contoso.com".into()],
    );
    assert_eq!(
        text,
        "bobb@contoso.com is not a user of contoso or fabrikam (the source tenants of the spec's syncs); did you mean bob@contoso.com?"
    );
}
