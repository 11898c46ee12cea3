use super::*;

const MINIMAL: &str = r#"
tenants:
  - id: 6babcaad-604b-40ac-a9d7-9fd97c0b779f
    displayName: Contoso
    domain: contoso.onmicrosoft.com
    apps:
      - clientId: 0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b
        secret: contoso-emulator-secret
    users:
      - userPrincipalName: alice@contoso.onmicrosoft.com
        displayName: Alice Martin
        department: Sales
    groups:
      - displayName: Contoso Sales
        members: [alice@contoso.onmicrosoft.com]
"#;

#[test]
fn minimal_world_from_issue_loads() {
    let state = WorldFile::parse(MINIMAL).unwrap().into_state(None).unwrap();
    let t = &state.tenants["6babcaad-604b-40ac-a9d7-9fd97c0b779f"];
    assert_eq!(t.users.len(), 1);
    assert_eq!(t.groups[0].members, vec![t.users[0].id.clone()]);
    assert_eq!(
        t.apps[0].secrets,
        vec!["contoso-emulator-secret".to_string()]
    );
    assert!(
        t.apps[0]
            .roles
            .iter()
            .any(|r| r == "Synchronization.ReadWrite.All")
    );
}

#[test]
fn later_ids_do_not_repeat_world_ids() {
    let mut state = WorldFile::parse(MINIMAL)
        .unwrap()
        .into_state(Some(5))
        .unwrap();
    let t = &state.tenants["6babcaad-604b-40ac-a9d7-9fd97c0b779f"];
    let taken: Vec<String> = t
        .users
        .iter()
        .map(|u| u.id.clone())
        .chain(t.groups.iter().map(|g| g.id.clone()))
        .collect();
    for _ in 0..10 {
        assert!(!taken.contains(&state.rng.guid()));
    }
}

#[test]
fn json_form_loads_too() {
    let json = r#"{"tenants":[{"id":"6babcaad-604b-40ac-a9d7-9fd97c0b779f","displayName":"C","domain":"c.onmicrosoft.com"}]}"#;
    let s = WorldFile::parse(json).unwrap().into_state(Some(1)).unwrap();
    assert_eq!(s.tenants.len(), 1);
}

#[test]
fn rejects_bad_worlds() {
    assert!(
        WorldFile::parse("tenants: [{id: x, displayName: a, domain: b}]")
            .unwrap()
            .into_state(None)
            .is_err()
    );
    assert!(WorldFile::parse("tenantz: []").is_err());
    let bad_member = MINIMAL.replace("members: [alice@", "members: [nobody@");
    assert!(
        WorldFile::parse(&bad_member)
            .unwrap()
            .into_state(None)
            .is_err()
    );
}
