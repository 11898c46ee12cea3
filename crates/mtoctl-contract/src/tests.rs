//! Unit tests: every expectation below was checked against data/graph-v1.0.json.

use serde_json::{Value, json};

use super::*;

const ID: &str = "6e1f5c4a-0b7e-4a55-9c55-2f0d3c1d2a11";
const ID2: &str = "0c9a8b2e-1d3f-4e5a-8b6c-7d8e9f0a1b2c";

fn request(method: &str, path: &str, body: Option<Value>) -> Vec<String> {
    Contract::v1()
        .check_request(method, path, body.as_ref())
        .into_iter()
        .map(|f| f.problem)
        .collect()
}

fn answer(method: &str, path: &str, status: u16, body: Value) -> Vec<String> {
    Contract::v1()
        .check_answer(method, path, status, Some(&body))
        .into_iter()
        .map(|f| f.problem)
        .collect()
}

fn resolve(path: &str) -> Target {
    Contract::v1()
        .resolve(path)
        .unwrap_or_else(|e| panic!("{path} does not resolve: {e}"))
}

fn assert_clean(problems: &[String]) {
    assert!(problems.is_empty(), "unexpected findings: {problems:#?}");
}

/// Exactly one finding, containing every one of `parts`.
fn assert_one(problems: &[String], parts: &[&str]) {
    assert_eq!(problems.len(), 1, "expected one finding, got {problems:#?}");
    for part in parts {
        assert!(
            problems[0].contains(part),
            "finding {:?} does not mention {part:?}",
            problems[0]
        );
    }
}

/// A servicePrincipal answer carrying every non-nullable property.
fn service_principal() -> Value {
    json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals/$entity",
        "id": ID, "appId": ID2, "displayName": "x", "appRoleAssignmentRequired": false,
        "addIns": [], "alternativeNames": [], "keyCredentials": [], "notificationEmailAddresses": [],
        "oauth2PermissionScopes": [], "passwordCredentials": [], "replyUrls": [],
        "resourceSpecificApplicationPermissions": [], "servicePrincipalNames": [ID2], "tags": [],
        "appRoles": [{"id": ID, "allowedMemberTypes": ["User"], "isEnabled": true, "value": "User"}],
    })
}

// ---- the metadata file and the small pieces -------------------------------------------------

#[test]
fn embedded_metadata_parses_and_names_its_commit() {
    let c = Contract::v1();
    assert_eq!(c.source_commit(), "f54f11b6");
    assert!(std::ptr::eq(c, Contract::v1()), "parsed once");
}

#[test]
fn percent_decoding_keeps_plus_and_bad_escapes() {
    assert_eq!(path::percent_decode("a+b%20c%27d%2"), "a+b c'd%2");
    assert_eq!(path::percent_decode("%E2%9C%93"), "\u{2713}");
}

#[test]
fn finding_displays_method_path_and_problem() {
    let f = Finding {
        method: "GET".into(),
        path: "/x".into(),
        problem: "p".into(),
    };
    assert_eq!(f.to_string(), "GET /x: p");
}

// ---- path resolution -------------------------------------------------------------------------

#[test]
fn entity_set_key_and_contained_navigation_resolve() {
    let t = resolve(&format!("/servicePrincipals/{ID}/appRoleAssignedTo/{ID2}"));
    assert_eq!(
        (t.kind, t.type_name.as_str(), t.collection),
        (TargetKind::Entity, "appRoleAssignment", false)
    );
    assert_clean(&request(
        "GET",
        &format!("/servicePrincipals/{ID}/appRoleAssignedTo/{ID2}"),
        None,
    ));
    assert_clean(&request(
        "DELETE",
        &format!("/servicePrincipals/{ID}/appRoleAssignedTo/{ID2}"),
        None,
    ));
    let t = resolve(&format!("/servicePrincipals/{ID}/appRoleAssignedTo"));
    assert_eq!(
        (t.kind, t.type_name.as_str(), t.collection),
        (TargetKind::EntityCollection, "appRoleAssignment", true)
    );
}

#[test]
fn keys_may_be_any_string_and_percent_encoded() {
    for key in [
        "Azure2Azure.abc.def",
        "a+b@contoso.com",
        "x('key')",
        "a%2Fb",
    ] {
        let t = resolve(&format!("/users/{key}"));
        assert_eq!(
            (t.kind, t.type_name.as_str()),
            (TargetKind::Entity, "user"),
            "{key}"
        );
    }
    let t = resolve(&format!(
        "/servicePrincipals/{ID}/synchronization/jobs/Azure2Azure.abc.def/schema"
    ));
    assert_eq!(
        (t.kind, t.type_name.as_str()),
        (TargetKind::Entity, "synchronizationSchema")
    );
    // The key written in parentheses on the entity set itself.
    let t = resolve("/servicePrincipals(appId='abc')");
    assert_eq!(
        (t.kind, t.type_name.as_str()),
        (TargetKind::Entity, "servicePrincipal")
    );
}

#[test]
fn unknown_first_segment_is_a_finding() {
    assert_one(
        &request("GET", "/bogusThings", None),
        &["no entity set or singleton `bogusThings`"],
    );
    // Names are case-sensitive.
    assert_one(
        &request("GET", "/ServicePrincipals", None),
        &["no entity set or singleton `ServicePrincipals`"],
    );
}

#[test]
fn unknown_segment_names_the_segment_and_the_type() {
    assert_one(
        &request(
            "GET",
            &format!("/servicePrincipals/{ID}/createdDateTime"),
            None,
        ),
        &[
            "`createdDateTime` is not a property, navigation, action or function of servicePrincipal",
        ],
    );
    assert_one(
        &request("GET", &format!("/servicePrincipals/{ID}/AppRoles"), None),
        &["`AppRoles`", "servicePrincipal"],
    );
}

#[test]
fn singleton_navigation_chain_resolves() {
    let t = resolve(&format!(
        "/tenantRelationships/multiTenantOrganization/tenants/{ID}"
    ));
    assert_eq!(
        (t.kind, t.type_name.as_str()),
        (TargetKind::Entity, "multiTenantOrganizationMember")
    );
    assert_clean(&request(
        "GET",
        &format!("/tenantRelationships/multiTenantOrganization/tenants/{ID}"),
        None,
    ));
    let t = resolve(
        "/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationPartnerConfiguration",
    );
    assert_eq!(
        (t.kind, t.type_name.as_str()),
        (
            TargetKind::Entity,
            "multiTenantOrganizationPartnerConfigurationTemplate"
        )
    );
}

#[test]
fn structural_properties_resolve_and_complex_ones_continue() {
    let t = resolve(&format!("/servicePrincipals/{ID}/synchronization/secrets"));
    assert_eq!(
        (t.kind, t.type_name.as_str(), t.collection),
        (
            TargetKind::ComplexOrPrimitiveProperty,
            "synchronizationSecretKeyStringValuePair",
            true
        )
    );
    let t = resolve(&format!("/servicePrincipals/{ID}/info/logoUrl"));
    assert_eq!(
        (t.kind, t.type_name.as_str()),
        (TargetKind::ComplexOrPrimitiveProperty, "Edm.String")
    );
    assert!(
        Contract::v1()
            .resolve(&format!("/servicePrincipals/{ID}/info/bogus"))
            .unwrap_err()
            .contains("informationalUrl")
    );
    assert!(
        Contract::v1()
            .resolve(&format!("/servicePrincipals/{ID}/tags/x"))
            .is_err()
    );
}

#[test]
fn casts_must_name_a_derived_type() {
    let t = resolve(&format!("/directoryObjects/{ID}/microsoft.graph.user"));
    assert_eq!((t.kind, t.type_name.as_str()), (TargetKind::Entity, "user"));
    let t = resolve(&format!("/groups/{ID}/members/microsoft.graph.user"));
    assert_eq!(
        (t.kind, t.type_name.as_str()),
        (TargetKind::EntityCollection, "user")
    );
    assert_one(
        &request(
            "GET",
            &format!("/groups/{ID}/members/microsoft.graph.bogus"),
            None,
        ),
        &["bogus"],
    );
    assert_one(
        &request("GET", "/servicePrincipals/microsoft.graph.user", None),
        &["does not derive from servicePrincipal"],
    );
}

#[test]
fn bound_actions_and_functions_resolve() {
    let t = resolve(&format!(
        "/servicePrincipals/{ID}/synchronization/jobs/{ID2}/start"
    ));
    assert_eq!(
        (t.kind, t.operation.as_deref()),
        (TargetKind::Action, Some("start"))
    );
    let t = resolve(&format!(
        "/servicePrincipals/{ID}/synchronization/jobs/validateCredentials"
    ));
    assert_eq!(
        (t.kind, t.operation.as_deref()),
        (TargetKind::Action, Some("validateCredentials"))
    );
    for delta in ["/servicePrincipals/delta()", "/servicePrincipals/delta"] {
        let t = resolve(delta);
        assert_eq!(
            (
                t.kind,
                t.operation.as_deref(),
                t.type_name.as_str(),
                t.collection
            ),
            (
                TargetKind::Function,
                Some("delta"),
                "servicePrincipal",
                true
            )
        );
    }
    let t = resolve("/applicationTemplates/abc/instantiate");
    assert_eq!(
        (t.kind, t.type_name.as_str()),
        (TargetKind::Action, "applicationServicePrincipal")
    );
}

#[test]
fn function_arguments_are_checked() {
    assert_clean(&request(
        "GET",
        "/tenantRelationships/findTenantInformationByTenantId(tenantId='abc')",
        None,
    ));
    assert_clean(&request(
        "GET",
        "/tenantRelationships/findTenantInformationByDomainName(domainName='contoso.com')",
        None,
    ));
    assert_one(
        &request(
            "GET",
            "/tenantRelationships/findTenantInformationByTenantId(tenant='abc')",
            None,
        ),
        &["no parameter `tenant`"],
    );
    assert_one(
        &request(
            "GET",
            "/tenantRelationships/findTenantInformationByTenantId(tenantId=abc)",
            None,
        ),
        &["single quotes"],
    );
}

#[test]
fn count_and_ref_resolve() {
    let t = resolve("/users/$count");
    assert_eq!((t.kind, t.type_name.as_str()), (TargetKind::Count, "user"));
    assert_clean(&request("GET", "/users/$count", None));
    assert_clean(&request(
        "GET",
        "/users/$count?$filter=displayName%20eq%20'x'",
        None,
    ));
    assert_one(
        &request("POST", "/users/$count", None),
        &["POST is not allowed on $count"],
    );
    assert_one(
        &request("GET", "/users/$count/x", None),
        &["cannot follow `$count`"],
    );
    let t = resolve(&format!("/groups/{ID}/members/$ref"));
    assert_eq!(
        (t.kind, t.type_name.as_str(), t.collection),
        (TargetKind::Ref, "directoryObject", true)
    );
    assert_eq!(
        resolve(&format!("/groups/{ID}/members/{ID2}/$ref")).kind,
        TargetKind::Ref
    );
}

#[test]
fn trimmed_types_are_not_checked_below() {
    let t = resolve(&format!("/users/{ID}/calendar/events/anything"));
    assert_eq!(t.kind, TargetKind::Unchecked);
    assert_clean(&request(
        "PATCH",
        &format!("/users/{ID}/calendar/events/x"),
        Some(json!({"whatever": 1})),
    ));
}

// ---- methods -----------------------------------------------------------------------------------

#[test]
fn methods_follow_what_the_path_addresses() {
    let job = format!("/servicePrincipals/{ID}/synchronization/jobs/{ID2}");
    assert_clean(&request("POST", &format!("{job}/start"), None));
    assert_one(
        &request("GET", &format!("{job}/start"), None),
        &["GET is not allowed on action `start`"],
    );
    assert_one(
        &request("POST", "/servicePrincipals/delta()", None),
        &["POST is not allowed on function `delta`"],
    );
    assert_one(
        &request("PATCH", "/servicePrincipals", None),
        &["PATCH is not allowed on a collection of servicePrincipal"],
    );
    assert_one(
        &request("POST", &format!("/servicePrincipals/{ID}"), None),
        &["POST is not allowed on a single servicePrincipal"],
    );
    assert_one(
        &request("DELETE", &format!("{job}/schedule"), None),
        &["DELETE is not allowed on a property"],
    );
    assert_clean(&request(
        "POST",
        &format!("/groups/{ID}/members/$ref"),
        Some(json!({"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/x"})),
    ));
    assert_clean(&request(
        "DELETE",
        &format!("/groups/{ID}/members/{ID2}/$ref"),
        None,
    ));
    assert_one(
        &request("PATCH", &format!("/groups/{ID}/members/$ref"), None),
        &["PATCH is not allowed on $ref"],
    );
}

#[test]
fn batch_is_left_to_the_caller() {
    assert_clean(&request(
        "POST",
        "/$batch",
        Some(json!({"requests": [{"id": "1", "method": "GET", "url": "/bogus"}]})),
    ));
    assert!(answer("POST", "/$batch", 200, json!({"responses": []})).is_empty());
    assert_one(
        &request("GET", "/$batch", None),
        &["GET is not allowed on $batch"],
    );
}

// ---- query options -----------------------------------------------------------------------------

#[test]
fn select_names_must_be_declared() {
    assert_one(
        &request(
            "GET",
            "/servicePrincipals?$select=id,appId,createdDateTime",
            None,
        ),
        &["createdDateTime", "servicePrincipal"],
    );
    assert_clean(&request(
        "GET",
        "/servicePrincipals?$select=id,appId,displayName,appRoles,applicationTemplateId",
        None,
    ));
    // Base types' properties count (id from entity, deletedDateTime from directoryObject).
    assert_clean(&request(
        "GET",
        "/servicePrincipals?$select=deletedDateTime,synchronization",
        None,
    ));
    assert_one(
        &request("GET", "/servicePrincipals?$select=id,appid", None),
        &["`appid`"],
    );
    assert_one(
        &request(
            "GET",
            "/servicePrincipals?$select=id,appId,createdDateTime",
            None,
        ),
        &["$select"],
    );
}

#[test]
fn directory_object_lists_accept_names_of_derived_types() {
    assert_clean(&request(
        "GET",
        &format!("/groups/{ID}/members?$select=id,userPrincipalName"),
        None,
    ));
    assert_clean(&request(
        "GET",
        &format!("/groups/{ID}/members?$select=id,appId,mailEnabled&$filter=displayName eq 'x'"),
        None,
    ));
    assert_one(
        &request(
            "GET",
            &format!("/groups/{ID}/members?$select=id,bogus"),
            None,
        ),
        &["`bogus`", "directoryObject"],
    );
    // Not on a type that is not directoryObject itself.
    assert_one(
        &request("GET", "/groups?$select=userPrincipalName", None),
        &["`userPrincipalName`", "group"],
    );
}

#[test]
fn expand_names_must_be_navigation_properties() {
    assert_clean(&request(
        "GET",
        "/policies/crossTenantAccessPolicy/partners?$expand=identitySynchronization",
        None,
    ));
    assert_one(
        &request(
            "GET",
            "/policies/crossTenantAccessPolicy/partners?$expand=b2bCollaborationInbound",
            None,
        ),
        &[
            "`b2bCollaborationInbound` is not a navigation property of crossTenantAccessPolicyConfigurationPartner",
        ],
    );
    assert_one(
        &request(
            "GET",
            "/policies/crossTenantAccessPolicy/partners?$expand=bogus",
            None,
        ),
        &["`bogus`"],
    );
    assert_clean(&request(
        "GET",
        &format!("/groups/{ID}?$expand=members($select=id,displayName)"),
        None,
    ));
    assert_one(
        &request(
            "GET",
            &format!("/groups/{ID}?$expand=members($select=id,bogus)"),
            None,
        ),
        &["`bogus`"],
    );
}

#[test]
fn filter_property_names_must_be_declared() {
    let ok = format!(
        "/servicePrincipals?$filter=displayName eq 'x' and applicationTemplateId eq '{ID}'"
    );
    assert_clean(&request("GET", &ok, None));
    assert_clean(&request("GET", &ok.replace(' ', "%20"), None));
    assert_one(
        &request(
            "GET",
            "/servicePrincipals?$filter=createdDateTime gt 2020-01-01T00:00:00Z",
            None,
        ),
        &["$filter", "`createdDateTime`", "servicePrincipal"],
    );
    // Literals, operators and functions are not property names.
    for filter in [
        "displayName eq 'createdDateTime and bogus'",
        "displayName eq 'it''s' or displayName ne null",
        "startswith(displayName,'x') and NOT (accountEnabled eq true)",
        "appOwnerOrganizationId eq 6e1f5c4a-0b7e-4a55-9c55-2f0d3c1d2a11",
        "servicePrincipalNames/any(n: n eq 'x')",
        "appRoles/any(r:r/value eq 'x' and r/isEnabled eq true)",
        "appId in ('a', 'b')",
        "deletedDateTime le 2024-05-01T10:20:30.5+02:00",
    ] {
        assert_clean(&request(
            "GET",
            &format!("/servicePrincipals?$filter={filter}"),
            None,
        ));
    }
    assert_one(
        &request(
            "GET",
            "/servicePrincipals?$filter=appRoles/any(r: r/bogus eq 'x')",
            None,
        ),
        &["`bogus`", "appRole"],
    );
    assert_one(
        &request("GET", "/servicePrincipals?$filter=info/bogus eq 'x'", None),
        &["`bogus`", "informationalUrl"],
    );
    assert_one(
        &request("GET", "/servicePrincipals?$filter=displayName eq 'x", None),
        &["unterminated"],
    );
}

#[test]
fn orderby_and_other_options() {
    assert_clean(&request(
        "GET",
        "/servicePrincipals?$orderby=displayName desc,appId&$top=5&$count=true&$skiptoken=abc&$search=\"displayName:x\"",
        None,
    ));
    assert_one(
        &request("GET", "/servicePrincipals?$orderby=createdDateTime", None),
        &["$orderby", "`createdDateTime`"],
    );
    assert_one(
        &request("GET", "/servicePrincipals?$format=json", None),
        &["`$format`"],
    );
    assert_one(
        &request("GET", "/servicePrincipals?api-version=2", None),
        &["`api-version`"],
    );
    assert_one(
        &request("GET", "/servicePrincipals?$top=-1", None),
        &["$top"],
    );
    assert_one(
        &request("GET", "/servicePrincipals?$deltatoken=x", None),
        &["`$deltatoken`"],
    );
    assert_clean(&request(
        "GET",
        "/servicePrincipals/delta()?$deltatoken=x&$select=id,appId",
        None,
    ));
    assert_one(
        &request(
            "GET",
            "/servicePrincipals/delta()?$select=createdDateTime",
            None,
        ),
        &["`createdDateTime`"],
    );
    assert_one(
        &request("GET", "/servicePrincipals?$top=1&$top=2", None),
        &["more than once"],
    );
}

// ---- request bodies --------------------------------------------------------------------------

#[test]
fn action_body_keys_are_parameters() {
    assert_clean(&request(
        "POST",
        "/applicationTemplates/abc/instantiate",
        Some(json!({"displayName": "x"})),
    ));
    assert_one(
        &request(
            "POST",
            "/applicationTemplates/abc/instantiate",
            Some(json!({"displayname": "x"})),
        ),
        &["body.displayname is not a parameter of action `instantiate`"],
    );
    assert_one(
        &request(
            "POST",
            "/applicationTemplates/abc/instantiate",
            Some(json!({"displayName": 3})),
        ),
        &["body.displayName must be a string"],
    );
    let start = format!("/servicePrincipals/{ID}/synchronization/jobs/{ID2}/start");
    assert_clean(&request("POST", &start, Some(json!({}))));
    assert_one(
        &request("POST", &start, Some(json!({"force": true}))),
        &["takes no parameters"],
    );
    let validate = format!("/servicePrincipals/{ID}/synchronization/jobs/validateCredentials");
    assert_clean(&request(
        "POST",
        &validate,
        Some(
            json!({"useSavedCredentials": false, "credentials": [{"key": "CompanyId", "value": "x"}]}),
        ),
    ));
    assert_one(
        &request(
            "POST",
            &validate,
            Some(json!({"credentials": [{"key": "Bogus", "value": "x"}]})),
        ),
        &["`Bogus`", "synchronizationSecret"],
    );
}

#[test]
fn collection_property_body_is_a_value_array_of_its_element_type() {
    let secrets = format!("/servicePrincipals/{ID}/synchronization/secrets");
    assert_clean(&request(
        "PUT",
        &secrets,
        Some(
            json!({"value": [{"key": "CompanyId", "value": "x"}, {"key": "SyncNotificationSettings", "value": "{}"}]}),
        ),
    ));
    let bad = request(
        "PUT",
        &secrets,
        Some(json!({"value": [{"key": "Bogus", "value": "x"}]})),
    );
    assert_one(
        &bad,
        &[
            "body.value[0].key",
            "`Bogus` is not a member of enum synchronizationSecret",
            "CompanyId",
        ],
    );
    assert_one(
        &request(
            "PUT",
            &secrets,
            Some(json!({"value": [{"Key": "CompanyId"}]})),
        ),
        &["body.value[0].Key is not a property of synchronizationSecretKeyStringValuePair"],
    );
    assert_one(
        &request("PUT", &secrets, Some(json!({"value": [], "values": []}))),
        &["body.values is not part of a property body"],
    );
    assert_one(
        &request("PUT", &secrets, Some(json!({}))),
        &["body has no `value`"],
    );
    assert_one(
        &request("PUT", &secrets, Some(json!([{"key": "CompanyId"}]))),
        &["JSON object"],
    );
}

#[test]
fn request_bodies_carry_no_instance_annotations() {
    let schema = format!("/servicePrincipals/{ID}/synchronization/jobs/{ID2}/schema");
    assert_clean(&request(
        "PUT",
        &schema,
        Some(json!({"synchronizationRules": [], "version": "1"})),
    ));
    assert_one(
        &request(
            "PUT",
            &schema,
            Some(json!({"@odata.context": "x", "synchronizationRules": []})),
        ),
        &["instance annotation `@odata.context` is not part of a request body"],
    );
    assert_one(
        &request(
            "PUT",
            &schema,
            Some(
                json!({"synchronizationRules@odata.type": "#Collection(microsoft.graph.synchronizationRule)"}),
            ),
        ),
        &["instance annotation"],
    );
    assert_one(
        &request(
            "PUT",
            &schema,
            Some(json!({"synchronizationRules": [{"editable": true, "foo": 1}]})),
        ),
        &["body.synchronizationRules[0].foo is not a property of synchronizationRule"],
    );
}

#[test]
fn mto_bodies() {
    assert_clean(&request(
        "PATCH",
        "/tenantRelationships/multiTenantOrganization/joinRequest",
        Some(json!({"addedByTenantId": ID})),
    ));
    assert_one(
        &request(
            "PATCH",
            "/tenantRelationships/multiTenantOrganization/joinRequest",
            Some(json!({"addedByTenantID": ID})),
        ),
        &["addedByTenantID"],
    );
    let template =
        "/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationPartnerConfiguration";
    for level in [
        "newPartners,existingPartners",
        "newPartners, existingPartners",
        "none",
    ] {
        assert_clean(&request(
            "PATCH",
            template,
            Some(json!({"templateApplicationLevel": level})),
        ));
    }
    assert_one(
        &request(
            "PATCH",
            template,
            Some(json!({"templateApplicationLevel": "newPartners,bogus"})),
        ),
        &["`bogus` is not a member of flags enum templateApplicationLevel"],
    );
    assert_one(
        &request(
            "PATCH",
            template,
            Some(json!({"templateApplicationLevel": null})),
        ),
        &["not nullable"],
    );
    assert_one(
        &request(
            "POST",
            "/tenantRelationships/multiTenantOrganization/tenants",
            Some(json!({"tenantId": ID, "role": "Owner"})),
        ),
        &["`Owner` is not a member of enum multiTenantOrganizationMemberRole"],
    );
}

#[test]
fn primitive_kinds_and_nullability() {
    let sp = format!("/servicePrincipals/{ID}");
    assert_clean(&request(
        "PATCH",
        &sp,
        Some(json!({"description": null, "appRoleAssignmentRequired": true, "tags": ["a"]})),
    ));
    assert_one(
        &request(
            "PATCH",
            &sp,
            Some(json!({"appRoleAssignmentRequired": "yes"})),
        ),
        &["must be a boolean"],
    );
    assert_one(
        &request(
            "PATCH",
            &sp,
            Some(json!({"appOwnerOrganizationId": "not-a-guid"})),
        ),
        &["is not a GUID"],
    );
    assert_one(
        &request("PATCH", &sp, Some(json!({"tags": null}))),
        &["body.tags is null"],
    );
    assert_one(
        &request("PATCH", &sp, Some(json!({"tags": "a"}))),
        &["must be an array"],
    );
    assert_one(
        &request(
            "PATCH",
            &sp,
            Some(json!({"appRoles": [{"id": ID, "isEnabled": 1}]})),
        ),
        &["body.appRoles[0].isEnabled"],
    );
    assert_one(
        &request("GET", &sp, Some(json!({}))),
        &["not expected on GET"],
    );
}

#[test]
fn odata_type_and_bind_in_request_bodies() {
    assert_clean(&request(
        "POST",
        "/directoryObjects",
        Some(
            json!({"@odata.type": "#microsoft.graph.group", "displayName": "x", "mailEnabled": false}),
        ),
    ));
    assert_one(
        &request(
            "POST",
            "/directoryObjects",
            Some(json!({"@odata.type": "#microsoft.graph.group", "userPrincipalName": "x"})),
        ),
        &["body.userPrincipalName is not a property of group"],
    );
    assert_one(
        &request(
            "POST",
            "/servicePrincipals",
            Some(json!({"@odata.type": "#microsoft.graph.application"})),
        ),
        &["does not derive"],
    );
    assert_clean(&request(
        "POST",
        "/groups",
        Some(
            json!({"displayName": "x", "members@odata.bind": ["https://graph.microsoft.com/v1.0/users/x"]}),
        ),
    ));
    assert_one(
        &request(
            "POST",
            "/groups",
            Some(json!({"displayName@odata.bind": "x"})),
        ),
        &["not a navigation property of group"],
    );
    assert_one(
        &request("POST", "/groups", Some(json!({"owners@odata.bind": "x"}))),
        &["array"],
    );
    assert_one(
        &request(
            "POST",
            &format!("/groups/{ID}/members/$ref"),
            Some(json!({"@odata.id": "x", "id": "y"})),
        ),
        &["body.id"],
    );
}

// ---- answers -------------------------------------------------------------------------------------

#[test]
fn answers_hold_only_declared_properties() {
    let path = format!("/servicePrincipals/{ID}");
    assert_clean(&answer("GET", &path, 200, service_principal()));
    let mut sp = service_principal();
    sp["createdDateTime"] = json!("2024-01-01T00:00:00Z");
    assert_one(
        &answer("GET", &path, 200, sp),
        &["answer.createdDateTime is not a property of servicePrincipal"],
    );
    let mut sp = service_principal();
    sp["appRoles"][0]["bogus"] = json!(1);
    assert_one(
        &answer("GET", &path, 200, sp),
        &["answer.appRoles[0].bogus is not a property of appRole"],
    );
    let mut sp = service_principal();
    sp["@microsoft.graph.tips"] = json!("x");
    assert_one(&answer("GET", &path, 200, sp), &["@microsoft.graph.tips"]);
    let mut sp = service_principal();
    sp["synchronization@odata.navigationLink"] = json!("x");
    assert_clean(&answer("GET", &path, 200, sp));
}

#[test]
fn errors_and_empty_answers_are_not_checked() {
    let path = format!("/servicePrincipals/{ID}");
    assert!(
        answer(
            "GET",
            &path,
            404,
            json!({"error": {"code": "Request_ResourceNotFound"}})
        )
        .is_empty()
    );
    assert!(
        Contract::v1()
            .check_answer("PATCH", &path, 204, None)
            .is_empty()
    );
    assert!(answer("GET", "/bogus", 200, json!({"x": 1})).is_empty());
}

#[test]
fn non_nullable_properties_must_be_present() {
    let path = format!("/servicePrincipals/{ID}");
    let mut sp = service_principal();
    sp.as_object_mut().map(|o| o.remove("appRoles"));
    assert_one(
        &answer("GET", &path, 200, sp.clone()),
        &["non-nullable property `appRoles` of servicePrincipal missing"],
    );
    // With $select, only the selected ones.
    assert_clean(&answer(
        "GET",
        &format!("{path}?$select=id,displayName"),
        200,
        json!({"id": ID, "displayName": "x"}),
    ));
    assert_one(
        &answer(
            "GET",
            &format!("{path}?$select=id,appRoles"),
            200,
            json!({"id": ID}),
        ),
        &["`appRoles`"],
    );
    // Null where not nullable.
    let mut sp = service_principal();
    sp["tags"] = Value::Null;
    assert_one(&answer("GET", &path, 200, sp), &["answer.tags is null"]);
    // Nested complex values are complete too.
    let job = format!("/servicePrincipals/{ID}/synchronization/jobs/{ID2}");
    assert_clean(&answer(
        "GET",
        &job,
        200,
        json!({"id": "j", "templateId": "t", "schedule": {"interval": "PT40M", "state": "Active"}}),
    ));
    assert_one(
        &answer(
            "GET",
            &job,
            200,
            json!({"id": "j", "schedule": {"state": "Active"}}),
        ),
        &["answer.schedule: non-nullable property `interval` of synchronizationSchedule missing"],
    );
    assert_one(
        &answer(
            "GET",
            &job,
            200,
            json!({"id": "j", "schedule": {"interval": "PT40M", "state": "Running"}}),
        ),
        &["`Running` is not a member of enum synchronizationScheduleState"],
    );
}

#[test]
fn partial_default_types_need_only_selected_properties() {
    assert_eq!(PARTIAL_DEFAULT_TYPES, ["user", "group"]);
    let path = format!("/users/{ID}");
    assert_clean(&answer(
        "GET",
        &path,
        200,
        json!({"id": ID, "displayName": "x"}),
    ));
    assert_one(
        &answer(
            "GET",
            &format!("{path}?$select=id,businessPhones"),
            200,
            json!({"id": ID}),
        ),
        &["`businessPhones` of user missing"],
    );
    // servicePrincipal is not partial.
    assert!(
        !answer(
            "GET",
            &format!("/servicePrincipals/{ID}"),
            200,
            json!({"id": ID})
        )
        .is_empty()
    );
}

#[test]
fn partner_answers() {
    let path = "/policies/crossTenantAccessPolicy/partners";
    let partner = json!({"tenantId": ID, "isServiceProvider": false, "isInMultiTenantOrganization": true,
        "inboundTrust": {"isMfaAccepted": true, "isCompliantDeviceAccepted": false, "isHybridAzureADJoinedDeviceAccepted": false},
        "b2bCollaborationInbound": {"usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]}},
        "automaticUserConsentSettings": {"inboundAllowed": true, "outboundAllowed": null}});
    assert_clean(&answer(
        "GET",
        &format!("{path}/{ID}"),
        200,
        partner.clone(),
    ));
    let mut with_meetings = partner.clone();
    with_meetings["crossCloudMeetingConfiguration"] = json!({"inboundAllowed": true});
    assert_one(
        &answer("GET", &format!("{path}/{ID}"), 200, with_meetings),
        &[
            "answer.crossCloudMeetingConfiguration is not a property of crossTenantAccessPolicyConfigurationPartner",
        ],
    );
    // An expanded navigation is checked against its type.
    let mut expanded = partner.clone();
    expanded["identitySynchronization"] =
        json!({"tenantId": ID, "displayName": "x", "userSyncInbound": {"isSyncAllowed": true}});
    assert_clean(&answer(
        "GET",
        &format!("{path}/{ID}?$expand=identitySynchronization"),
        200,
        expanded.clone(),
    ));
    expanded["identitySynchronization"]["groupSyncInbound"] = json!({"isSyncAllowed": true});
    assert_one(
        &answer(
            "GET",
            &format!("{path}/{ID}?$expand=identitySynchronization"),
            200,
            expanded,
        ),
        &[
            "answer.identitySynchronization.groupSyncInbound is not a property of crossTenantIdentitySyncPolicyPartner",
        ],
    );
    // The beta contract declares it (and covers only the policy's own path).
    let beta = Contract::beta();
    let policy = format!("{path}/{ID}/identitySynchronization");
    assert!(beta.covers(&policy) && !beta.covers(&format!("{path}/{ID}")));
    assert!(Contract::v1().covers(&format!("{path}/{ID}")));
    let with_groups = json!({"tenantId": ID, "displayName": "x",
        "userSyncInbound": {"isSyncAllowed": true}, "groupSyncInbound": {"isSyncAllowed": true}});
    assert!(
        beta.check_answer("GET", &policy, 200, Some(&with_groups))
            .is_empty()
    );
    let mut bad_target = partner;
    bad_target["b2bCollaborationInbound"]["usersAndGroups"]["accessType"] = json!("Allowed");
    assert_one(
        &answer("GET", &format!("{path}/{ID}"), 200, bad_target),
        &["`Allowed` is not a member"],
    );
}

#[test]
fn mto_member_answers() {
    let path = format!("/tenantRelationships/multiTenantOrganization/tenants/{ID}");
    let member = json!({"id": ID, "tenantId": ID, "displayName": "x", "role": "member", "state": "active",
        "addedByTenantId": ID2, "transitionDetails": {"desiredState": "active", "desiredRole": "member", "status": "succeeded", "details": null}});
    assert_clean(&answer("GET", &path, 200, member.clone()));
    let mut bad = member.clone();
    bad["state"] = json!("Active");
    assert_one(
        &answer("GET", &path, 200, bad),
        &[
            "answer.state",
            "`Active` is not a member of enum multiTenantOrganizationMemberState",
        ],
    );
    let mut bad = member;
    bad["addedByTenantId"] = json!("contoso");
    assert_one(&answer("GET", &path, 200, bad), &["not a GUID"]);
}

#[test]
fn collection_answers_check_every_element() {
    let path = "/servicePrincipals?$select=id,appId";
    assert_clean(&answer(
        "GET",
        path,
        200,
        json!({"@odata.context": "x", "value": [{"id": ID, "appId": ID2}], "@odata.nextLink": "y"}),
    ));
    let bad = json!({"value": [{"id": ID, "appId": ID2}, {"id": ID2, "bogus": 1}]});
    assert_one(
        &answer("GET", path, 200, bad),
        &["answer.value[1].bogus is not a property of servicePrincipal"],
    );
    assert_one(
        &answer("GET", path, 200, json!({"value": [], "nextLink": "x"})),
        &["answer.nextLink is not part of a collection answer"],
    );
    assert_one(
        &answer("GET", path, 200, json!({"@odata.context": "x"})),
        &["answer has no `value` array"],
    );
    assert_one(
        &answer("GET", path, 200, json!({"value": [{"appId": ID2}]})),
        &["`id` of servicePrincipal missing"],
    );
    // Created entity: a single object.
    let mut created = service_principal();
    created["bogus"] = json!(true);
    assert_one(
        &answer("POST", "/servicePrincipals", 201, created),
        &["answer.bogus"],
    );
}

#[test]
fn directory_object_answers() {
    let path = format!("/groups/{ID}/members?$select=id,userPrincipalName");
    let ok = json!({"value": [
        {"@odata.type": "#microsoft.graph.user", "id": ID, "userPrincipalName": "a@b"},
        {"@odata.type": "#microsoft.graph.group", "id": ID2},
        {"id": ID2, "userPrincipalName": "c@d"},
        {"@odata.type": "#microsoft.graph.device", "id": ID2, "deviceId": "x"},
    ]});
    assert_clean(&answer("GET", &path, 200, ok));
    let bad = json!({"value": [{"@odata.type": "#microsoft.graph.group", "id": ID, "userPrincipalName": "a@b"}, {"id": ID, "bogus": 1}]});
    let problems = answer("GET", &path, 200, bad);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].contains("answer.value[0].userPrincipalName is not a property of group"),
        "{problems:#?}"
    );
    assert!(
        problems[1].contains("answer.value[1].bogus is not a property of directoryObject"),
        "{problems:#?}"
    );
}

#[test]
fn property_action_and_function_answers() {
    let secrets = format!("/servicePrincipals/{ID}/synchronization/secrets");
    assert_clean(&answer(
        "GET",
        &secrets,
        200,
        json!({"value": [{"key": "CompanyId", "value": "x"}]}),
    ));
    assert_one(
        &answer(
            "GET",
            &secrets,
            200,
            json!({"value": [{"key": "Bogus", "value": "x"}]}),
        ),
        &["answer.value[0].key"],
    );
    assert_clean(&answer(
        "GET",
        &format!("/servicePrincipals/{ID}/displayName"),
        200,
        json!({"@odata.context": "x", "value": "n"}),
    ));
    assert_one(
        &answer(
            "GET",
            &format!("/servicePrincipals/{ID}/displayName"),
            200,
            json!({"value": 1}),
        ),
        &["answer.value must be a string"],
    );
    // instantiate returns applicationServicePrincipal.
    let inst = answer(
        "POST",
        "/applicationTemplates/abc/instantiate",
        201,
        json!({"servicePrincipal": {"id": ID, "bogus": 1}}),
    );
    assert!(
        inst.iter()
            .any(|p| p
                .contains("answer.servicePrincipal.bogus is not a property of servicePrincipal")),
        "{inst:#?}"
    );
    let tenant = "/tenantRelationships/findTenantInformationByTenantId(tenantId='x')";
    assert_clean(&answer(
        "GET",
        tenant,
        200,
        json!({"tenantId": ID, "displayName": "x", "defaultDomainName": "x", "federationBrandName": null}),
    ));
    assert_one(
        &answer("GET", tenant, 200, json!({"displayName": "x"})),
        &["`tenantId` of tenantInformation missing"],
    );
    // delta: removed entries and partial objects are Graph's documented delta shape.
    let delta = json!({"value": [{"id": ID, "displayName": "x"}, {"id": ID2, "@removed": {"reason": "deleted"}}], "@odata.deltaLink": "x"});
    assert_clean(&answer("GET", "/servicePrincipals/delta()", 200, delta));
    assert_one(
        &answer(
            "GET",
            "/servicePrincipals/delta()",
            200,
            json!({"value": [{"id": ID, "bogus": 1}]}),
        ),
        &["bogus"],
    );
    // Actions that return nothing, $count and $ref answers are not checked.
    assert!(
        answer(
            "POST",
            &format!("/servicePrincipals/{ID}/synchronization/jobs/{ID2}/start"),
            200,
            json!({"x": 1})
        )
        .is_empty()
    );
    assert!(answer("GET", "/users/$count", 200, json!(3)).is_empty());
}

#[test]
fn trimmed_types_accept_any_value() {
    // The calendar type itself was trimmed: its bodies and answers are accepted as they are.
    assert_eq!(
        resolve(&format!("/users/{ID}/calendar")).type_name,
        "calendar"
    );
    assert_clean(&request(
        "PATCH",
        &format!("/users/{ID}/calendar"),
        Some(json!({"whatever": 1})),
    ));
    assert!(
        answer(
            "GET",
            &format!("/users/{ID}/calendar"),
            200,
            json!({"whatever": 1})
        )
        .is_empty()
    );
    assert_one(
        &request("GET", "/", None),
        &["names no entity set or singleton"],
    );
}

#[test]
fn numbers_are_checked_by_kind_and_range() {
    let user = format!("/users/{ID}");
    assert_clean(&request(
        "PATCH",
        &user,
        Some(json!({"deviceEnrollmentLimit": 5})),
    ));
    assert_one(
        &request("PATCH", &user, Some(json!({"deviceEnrollmentLimit": "5"}))),
        &["must be an integer (Edm.Int32)"],
    );
    assert_one(
        &request("PATCH", &user, Some(json!({"deviceEnrollmentLimit": 1.5}))),
        &["must be an integer"],
    );
    assert_one(
        &request(
            "PATCH",
            &user,
            Some(json!({"deviceEnrollmentLimit": 4_294_967_296_u64})),
        ),
        &["out of range for Edm.Int32"],
    );
    let template = "/applicationTemplates/abc";
    assert_clean(&request(
        "PATCH",
        template,
        Some(json!({"riskScore": {"total": 1.5, "legal": 2}})),
    ));
    assert_one(
        &request(
            "PATCH",
            template,
            Some(json!({"riskScore": {"total": "high"}})),
        ),
        &["body.riskScore.total must be a number (Edm.Single)"],
    );
}

#[test]
fn an_open_type_takes_properties_it_does_not_declare_and_others_still_do_not() {
    let entry = |details: Value| {
        json!({"value": [{
            "id": "x", "sourceIdentity": {"id": "u", "details": details},
            "provisioningSteps": [{"name": "EntryExport", "details": {"SkipReason": "x"}}]
        }]})
    };
    let problems = answer(
        "GET",
        "/auditLogs/provisioning",
        200,
        entry(json!({"UserPrincipalName": "a@b"})),
    );
    assert!(
        !problems.iter().any(|p| p.contains("is not a property")),
        "detailsInfo is open: {problems:?}"
    );
    // provisioningStep is not open.
    let mut body = entry(json!({}));
    body["value"][0]["provisioningSteps"][0]["bogus"] = json!(1);
    let problems = answer("GET", "/auditLogs/provisioning", 200, body);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("provisioningSteps[0].bogus is not a property of provisioningStep")),
        "{problems:?}"
    );
    // Open directory objects take directory extensions only.
    let path = format!("/servicePrincipals/{ID}");
    let mut sp = service_principal();
    sp["extension_0123_costCentre"] = json!("x");
    assert_clean(&answer("GET", &path, 200, sp));
}
