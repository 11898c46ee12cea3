//! Asynchronous MTO transitions run by the scheduler when they fall due:
//! join processing (with the documented failure reasons), partner wiring and
//! template application at join time, role changes and removals.

use serde_json::{Value, json};

use crate::core::Core;
use crate::state::{
    IdentitySync, JoinRequest, JoinTransition, LocalMto, MemberTransition,
    PARTNER_TEMPLATE_SETTINGS, Partner, State,
};

/// Find the MTO a join by `tenant` targeting `owner` would enter.
pub(super) fn join_target(state: &State, tenant: &str, owner: &str) -> Option<String> {
    state
        .mtos
        .values()
        .find(|m| {
            m.is_active_owner(owner) && m.member(tenant).is_some_and(|x| x.state == "pending")
        })
        .map(|m| m.key.clone())
}

/// Scheduled: a join starts processing.
pub fn join_start(core: &mut Core, tenant: &str, attempt: u64) {
    let Some(t) = core.state.tenants.get_mut(tenant) else {
        return;
    };
    if t.join_request.attempt != attempt {
        return;
    }
    if let Some(tr) = t
        .join_request
        .transition
        .as_mut()
        .filter(|tr| tr.status == "notStarted")
    {
        tr.status = "running".into();
    }
    let owner = t.join_request.added_by.clone();
    if let Some(key) = join_target(&core.state, tenant, &owner)
        && let Some(m) = core
            .state
            .mtos
            .get_mut(&key)
            .and_then(|m| m.member_mut(tenant))
        && let Some(tr) = m
            .transition
            .as_mut()
            .filter(|tr| tr.desired_state == "active")
    {
        tr.status = "running".into();
    }
}

/// Scheduled: a join completes, succeeding or failing with a reason.
pub fn join_complete(core: &mut Core, tenant: &str, attempt: u64, at: i64) {
    let min_age = core.scaled_ms(core.state.timings.join_min_mto_age);
    let st = &mut core.state;
    let Some(t) = st.tenants.get(tenant) else {
        return;
    };
    if t.join_request.attempt != attempt
        || !t
            .join_request
            .transition
            .as_ref()
            .is_some_and(|tr| tr.status == "notStarted" || tr.status == "running")
    {
        return;
    }
    let owner = t.join_request.added_by.clone();
    let already = t.mto.is_some();
    let target = join_target(st, tenant, &owner);
    let failure = match (&target, already) {
        (_, true) => {
            Some("The tenant already belongs to another multi-tenant organization.".to_owned())
        }
        (None, _) => Some(format!(
            "The tenant has not been added to a multi-tenant organization owned by tenant {owner}."
        )),
        (Some(key), _) => {
            let Some(mto) = st.mtos.get(key) else {
                return;
            };
            let too_many_users = |id: &str| {
                st.tenants
                    .get(id)
                    .is_some_and(|x| x.internal_users().count() > st.limits.max_internal_users)
            };
            let being_removed = mto
                .member(tenant)
                .and_then(|m| m.transition.as_ref())
                .is_some_and(|t| t.desired_state == "removed");
            if being_removed {
                Some("The tenant is being removed from the multi-tenant organization.".to_owned())
            } else if at - mto.created_ms < min_age {
                Some(
                    "The multi-tenant organization was created too recently; retry the join later."
                        .to_owned(),
                )
            } else if mto.active_count() >= st.limits.max_active_tenants {
                Some(format!(
                    "The multi-tenant organization has reached the maximum of {} active tenants.",
                    st.limits.max_active_tenants
                ))
            } else if too_many_users(tenant)
                || mto
                    .members
                    .iter()
                    .filter(|m| m.role == "owner")
                    .any(|m| too_many_users(&m.tenant_id))
            {
                Some("The owner or joining tenant exceeds the maximum number of internal users per tenant.".to_owned())
            } else {
                None
            }
        }
    };
    if let Some(details) = failure {
        if let Some(t) = st.tenants.get_mut(tenant) {
            t.join_request.transition = Some(JoinTransition {
                desired_member_state: "active".into(),
                status: "failed".into(),
                details: details.clone(),
            });
        }
        if let Some(key) = &target
            && let Some(m) = st.mtos.get_mut(key).and_then(|m| m.member_mut(tenant))
            && let Some(tr) = m
                .transition
                .as_mut()
                .filter(|tr| tr.desired_state == "active")
        {
            tr.status = "failed".into();
            tr.details = Some(details);
        }
        return;
    }
    let Some(key) = target else { return };
    let object_id = st.rng.guid();
    let mut role = "member".to_owned();
    if let Some(m) = st.mtos.get_mut(&key).and_then(|m| m.member_mut(tenant)) {
        m.state = "active".into();
        m.joined_ms = Some(at);
        if let Some(tr) = m.transition.take() {
            // A role change queued while pending lands with the join.
            m.role = tr.desired_role;
        }
        role = m.role.clone();
    }
    if let Some(t) = st.tenants.get_mut(tenant) {
        t.mto = Some(LocalMto {
            mto_key: key.clone(),
            object_id,
        });
        t.join_request.member_state = Some("active".into());
        t.join_request.role = Some(role);
        t.join_request.transition = None;
    }
    wire_partners_on_join(st, &key, tenant);
}

/// Template application level flags of a canonical level string.
fn level_has(level: &str, flag: &str) -> bool {
    level.split(',').any(|f| f.trim() == flag)
}

/// Ensure partner configurations and identity sync policies exist both ways
/// between `joiner` and every other active member, mark them as MTO partners
/// and apply templates (reference §3.6, §5.3).
fn wire_partners_on_join(st: &mut State, key: &str, joiner: &str) {
    let Some(mto) = st.mtos.get(key) else { return };
    let others: Vec<String> = mto
        .members
        .iter()
        .filter(|m| m.state == "active" && m.tenant_id != joiner)
        .map(|m| m.tenant_id.clone())
        .collect();
    for other in others {
        wire_one_side(st, joiner, &other);
        wire_one_side(st, &other, joiner);
    }
}

fn wire_one_side(st: &mut State, owner: &str, partner: &str) {
    let partner_name = st.tenants.get(partner).map(|t| t.display_name.clone());
    let Some(t) = st.tenants.get_mut(owner) else {
        return;
    };
    let new_partner = !t.partners.contains_key(partner);
    let p = t
        .partners
        .entry(partner.to_owned())
        .or_insert_with(|| Partner::unconfigured(partner));
    p.is_in_mto = true;
    let tpl = &t.partner_template;
    if (new_partner && level_has(&tpl.level, "newPartners"))
        || (!new_partner && level_has(&tpl.level, "existingPartners"))
    {
        for k in PARTNER_TEMPLATE_SETTINGS {
            let Some(tv) = tpl.settings.get(*k) else {
                continue;
            };
            merge_template_value(
                p.settings.entry((*k).to_owned()).or_insert(Value::Null),
                tv,
                k,
            );
        }
    }
    let new_sync = !t.identity_sync.contains_key(partner);
    let s = t
        .identity_sync
        .entry(partner.to_owned())
        .or_insert_with(|| {
            IdentitySync::new(partner, partner_name, json!({"isSyncAllowed": false}))
        });
    let stpl = &t.sync_template;
    if ((new_sync && level_has(&stpl.level, "newPartners"))
        || (!new_sync && level_has(&stpl.level, "existingPartners")))
        && let Some(v) = stpl
            .user_sync_inbound
            .get("isSyncAllowed")
            .filter(|v| !v.is_null())
    {
        s.user_sync_inbound = json!({"isSyncAllowed": v});
    }
}

/// A null template value leaves the partner value as is; for the small
/// boolean records (consent, inbound trust) each non-null member overwrites.
fn merge_template_value(target: &mut Value, tv: &Value, key: &str) {
    if tv.is_null() {
        return;
    }
    let memberwise = key == "automaticUserConsentSettings" || key == "inboundTrust";
    match (memberwise, tv.as_object()) {
        (true, Some(obj)) => {
            if !target.is_object() {
                *target = Value::Object(obj.keys().map(|k| (k.clone(), Value::Null)).collect());
            }
            if let Some(t) = target.as_object_mut() {
                for (k, v) in obj {
                    if !v.is_null() {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        _ => *target = tv.clone(),
    }
}

/// Scheduled: a queued role change or removal starts processing. A member
/// being removed shows `state: removed` until the removal completes.
pub fn transition_running(core: &mut Core, key: &str, tenant: &str) {
    let Some(m) = core
        .state
        .mtos
        .get_mut(key)
        .and_then(|m| m.member_mut(tenant))
    else {
        return;
    };
    let Some(tr) = m.transition.as_mut().filter(|t| t.status == "notStarted") else {
        return;
    };
    // A pending member's add transition runs with its join, not here.
    if tr.desired_state == "active" && m.state == "pending" {
        return;
    }
    tr.status = "running".into();
    if tr.desired_state == "removed" {
        m.state = "removed".into();
    }
}

/// Scheduled: a queued role change lands.
pub fn role_change_lands(core: &mut Core, key: &str, tenant: &str) {
    let joining = core
        .state
        .tenants
        .get(tenant)
        .is_some_and(|t| t.join_request.transition.is_some());
    let Some(m) = core
        .state
        .mtos
        .get_mut(key)
        .and_then(|m| m.member_mut(tenant))
    else {
        return;
    };
    let Some(tr) = m.transition.clone() else {
        return;
    };
    if tr.desired_state == "removed" {
        return;
    }
    m.role = tr.desired_role.clone();
    // A pending member shows its add record only while its join is in flight.
    m.transition = if m.state == "pending" && joining {
        Some(MemberTransition {
            desired_role: m.role.clone(),
            desired_state: "active".into(),
            status: "notStarted".into(),
            details: None,
        })
    } else {
        None
    };
    let role = m.role.clone();
    let state = m.state.clone();
    if let Some(t) = core.state.tenants.get_mut(tenant)
        && state == "active"
    {
        t.join_request.role = Some(role);
    }
}

/// Scheduled: a queued removal completes; the member disappears (404) and the
/// MTO dissolves when nobody active is left.
pub fn removal_lands(core: &mut Core, key: &str, tenant: &str) {
    let st = &mut core.state;
    let Some(mto) = st.mtos.get_mut(key) else {
        return;
    };
    let queued = mto
        .member(tenant)
        .and_then(|m| m.transition.as_ref())
        .is_some_and(|t| t.desired_state == "removed");
    if !queued {
        return;
    }
    mto.members.retain(|m| m.tenant_id != tenant);
    let dissolved = mto.active_count() == 0;
    let remaining: Vec<String> = mto.members.iter().map(|m| m.tenant_id.clone()).collect();
    let mut leaving = vec![tenant.to_owned()];
    if dissolved {
        leaving.extend(remaining.iter().cloned());
        st.mtos.remove(key);
    }
    for id in &leaving {
        if let Some(t) = st.tenants.get_mut(id)
            && t.mto.as_ref().is_some_and(|m| m.mto_key == key)
        {
            t.mto = None;
            let attempt = t.join_request.attempt + 1;
            t.join_request = JoinRequest::new(t.join_request.id.clone());
            t.join_request.attempt = attempt;
        }
    }
    // Partner configurations stay (the reference: leaving does not touch CTAS),
    // but they no longer describe MTO co-members.
    for id in &leaving {
        for t in st.tenants.values_mut() {
            if let Some(p) = t.partners.get_mut(id) {
                p.is_in_mto = false;
            }
        }
        if let Some(t) = st.tenants.get_mut(id) {
            for p in t.partners.values_mut() {
                p.is_in_mto = false;
            }
        }
    }
}
