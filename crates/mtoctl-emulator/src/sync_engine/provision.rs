//! Provisioning one source user into the target: match its copy (linked, or by its external
//! link), update it as the schema's mappings allow or create it, and say what changed.

use serde_json::Value;

use crate::provisioning_log::flag;
use crate::schema;
use crate::state::{ExternalLink, Job, State, User};

/// A target attribute changed: (name, old value, new value).
pub type Modified = (String, Option<String>, Option<String>);

/// The target attributes a report lists when they change.
const REPORTED: &[&str] = &[
    "accountEnabled",
    "displayName",
    "givenName",
    "surname",
    "department",
    "jobTitle",
    "mail",
    "userPrincipalName",
    "userType",
    "showInAddressList",
];

fn reported(u: Option<&User>) -> Vec<Option<String>> {
    let m = u.map(User::to_json).unwrap_or_default();
    REPORTED
        .iter()
        .map(|k| match m.get(*k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Bool(b)) => Some(flag(*b)),
            _ => None,
        })
        .collect()
}

fn diff(before: &[Option<String>], after: &[Option<String>]) -> Vec<Modified> {
    REPORTED
        .iter()
        .zip(before.iter().zip(after))
        .filter(|(_, (b, a))| b != a)
        .map(|(k, (b, a))| ((*k).to_owned(), b.clone(), a.clone()))
        .collect()
}

/// What provisioning one user did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Created in the target.
    Created {
        /// The target user.
        id: String,
        /// Its attributes.
        modified: Vec<Modified>,
    },
    /// Updated (or restored) in the target.
    Updated {
        /// The target user.
        id: String,
        /// Its UPN.
        upn: String,
        /// What changed.
        modified: Vec<Modified>,
    },
    /// Already up to date.
    Unchanged {
        /// The target user.
        id: String,
        /// Its UPN.
        upn: String,
    },
    /// Could not be provisioned (escrow).
    Escrowed(String),
}

/// Provision one source user into `target`, tracked by `job`.
pub fn provision_user(
    state: &mut State,
    source: &str,
    target: &str,
    job: &mut Job,
    user: &User,
    at: i64,
) -> Outcome {
    let (user_type, user_type_flow) = schema::constant_for(&job.schema, "userType")
        .unwrap_or_else(|| ("Member".into(), "ObjectAddOnly".into()));
    let show = schema::constant_for(&job.schema, "showInAddressList")
        .map(|(v, _)| v.eq_ignore_ascii_case("true"));
    let link = ExternalLink {
        source_tenant_id: source.to_owned(),
        source_user_id: user.id.clone(),
    };
    let new_id = state.rng.guid();
    let Some(tt) = state.tenants.get_mut(target) else {
        return Outcome::Escrowed("target tenant not found".into());
    };
    let linked = job
        .provisioned
        .get(&user.id)
        .and_then(|tid| tt.users.iter().position(|u| &u.id == tid));
    if let Some(i) = linked
        && tt.users[i].deleted_ms.is_some()
    {
        // Deleted in the target, not by this job: sync does not restore it
        // (cross-tenant-synchronization-configure, "Recently deleted user in the target
        // tenant is not restored").
        return Outcome::Escrowed(format!(
            "The User '{}' is soft-deleted in the target tenant; restore it there.",
            tt.users[i].user_principal_name
        ));
    }
    let existing = linked.or_else(|| {
        tt.users
            .iter()
            .position(|u| u.external.as_ref() == Some(&link))
    });
    let source_json = user.to_json();
    let as_text = |v: &Value| v.as_str().map(str::to_owned);
    let as_bool = |v: &Value| {
        v.as_bool()
            .or_else(|| v.as_str().map(|s| s.eq_ignore_ascii_case("true")))
    };
    if let Some(i) = existing {
        let may_update = schema::allows(&job.schema, "Update");
        let tu = &mut tt.users[i];
        let before = serde_json::to_value(&*tu).unwrap_or(Value::Null);
        let reported_before = reported(Some(tu));
        // Only mappings that flow on updates (not "ObjectAddOnly") apply.
        let update = |attr: &str| {
            schema::mapped(&job.schema, attr, &source_json)
                .filter(|(_, flow)| may_update && flow != "ObjectAddOnly")
                .map(|(v, _)| v)
        };
        if let Some(v) = update("displayName").and_then(|v| as_text(&v)) {
            tu.display_name = v;
        }
        if let Some(v) = update("givenName") {
            tu.given_name = as_text(&v);
        }
        if let Some(v) = update("surname") {
            tu.surname = as_text(&v);
        }
        if let Some(v) = update("department") {
            tu.department = as_text(&v);
        }
        if let Some(v) = update("jobTitle") {
            tu.job_title = as_text(&v);
        }
        if let Some(v) = update("accountEnabled").and_then(|v| as_bool(&v)) {
            tu.account_enabled = v;
        }
        if may_update {
            tu.mail = user.mail.clone();
            if user_type_flow == "Always" {
                tu.user_type = user_type;
            }
            if show.is_some() {
                tu.show_in_address_list = show;
            }
        }
        // A user back in scope is restored from the soft-deleted state.
        tu.deleted_ms = None;
        let (id, upn) = (tu.id.clone(), tu.user_principal_name.clone());
        job.provisioned.insert(user.id.clone(), id.clone());
        let after = serde_json::to_value(&*tu).unwrap_or(Value::Null);
        if before == after {
            return Outcome::Unchanged { id, upn };
        }
        let modified = diff(&reported_before, &reported(Some(tu)));
        let seq = tt.next_seq();
        tt.users[i].changed_seq = seq;
        return Outcome::Updated { id, upn, modified };
    }
    if !schema::allows(&job.schema, "Add") {
        return Outcome::Escrowed("the user mapping does not allow Add".into());
    }
    let (local, domain) = user
        .user_principal_name
        .split_once('@')
        .unwrap_or((&user.user_principal_name, ""));
    let upn = format!("{local}_{domain}#EXT#@{}", tt.domain);
    if tt
        .users
        .iter()
        .any(|u| u.user_principal_name.eq_ignore_ascii_case(&upn))
    {
        return Outcome::Escrowed(format!(
            "userPrincipalName {upn} is already taken in the target"
        ));
    }
    let seq = tt.next_seq();
    let create = |attr: &str| schema::mapped(&job.schema, attr, &source_json).map(|(v, _)| v);
    let text = |attr: &str| create(attr).and_then(|v| as_text(&v));
    let created = User {
        changed_seq: seq,
        id: new_id.clone(),
        user_principal_name: upn,
        display_name: text("displayName").unwrap_or_else(|| user.display_name.clone()),
        given_name: text("givenName"),
        surname: text("surname"),
        mail: user.mail.clone(),
        department: text("department"),
        job_title: text("jobTitle"),
        user_type,
        account_enabled: create("accountEnabled")
            .and_then(|v| as_bool(&v))
            .unwrap_or(user.account_enabled),
        // Without a mapping, the invitation manager's `false` (user resource: "For users
        // invited through the invitation manager, this property will be set to false").
        show_in_address_list: show.or(Some(false)),
        created_ms: at,
        deleted_ms: None,
        external: Some(link),
        identities: None,
        profile: Default::default(),
    };
    let modified = diff(&reported(None), &reported(Some(&created)));
    tt.users.push(created);
    job.provisioned.insert(user.id.clone(), new_id.clone());
    Outcome::Created {
        id: new_id,
        modified,
    }
}
