//! `--emulator`: an emulated Microsoft Graph started inside mtoctl, for a first run on a fresh
//! machine and for trying a spec without touching a real tenant.
//!
//! The world is seeded from the spec (its tenants, the users and groups its sync scopes name, an
//! app registration per tenant) or from a `world.yaml` beside the spec, completed from the spec
//! where it lacks something. Its state lives in `.mtoctl/emulator/` under the working directory
//! and is saved after every change, so a later run continues where the last one stopped; the
//! wall-clock time between runs passes in the emulated world too, so a join that was pending
//! completes by the next run. The clock runs [`TIME_SCALE`] times the real durations, and a
//! started job's first sync cycle runs at once.
//!
//! It does not use the spec's credentials: every tenant signs in with a client secret of the
//! emulated app, through the same azure_identity credential as a real client secret, so the
//! whole sign-in path runs. The emulator serves on 127.0.0.1 only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use mtoctl_emulator::state::State;
use mtoctl_emulator::world::{self, WorldFile};
use mtoctl_emulator::{Emulator, Options};
use mtoctl_model::DesiredState;
use mtoctl_model::desired::{GroupRef, ScopeSpec, UserRef};
use serde_json::json;

/// Emulated durations are multiplied by this: a 10-minute join takes 6 s, the 40-minute sync
/// interval 24 s.
pub const TIME_SCALE: f64 = 0.01;

/// Members given to a group the spec names but the world lacks, so syncing it shows something.
const SEEDED_GROUP_MEMBERS: usize = 2;

/// Users given to a tenant whose sync scope is "all users" or a filter, when it has none.
const SEEDED_USERS: usize = 3;

/// A running embedded emulator.
pub struct Embedded {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Per tenant alias: the client id and the secret of the emulated app it signs in with.
    pub apps: BTreeMap<String, (String, String)>,
    /// Where the state is kept.
    pub state_file: PathBuf,
    /// Whether this run started a new world (no saved state, or `--emulator-reset`).
    pub fresh: bool,
    /// The users and groups this run made up for the spec's scopes (only for tenants it created
    /// without a world file), to list: a name the spec has wrong is otherwise never noticed.
    pub invented: Vec<String>,
    // Kept so the server lives as long as this value.
    _server: mtoctl_emulator::Server,
}

impl std::fmt::Debug for Embedded {
    // The apps' secrets are the emulator's own, but they are secrets all the same.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded")
            .field("base_url", &self.base_url)
            .field("tenants", &self.apps.keys().collect::<Vec<_>>())
            .field("state_file", &self.state_file)
            .finish_non_exhaustive()
    }
}

/// Starts the emulator for `desired` (read from `spec_path`), reusing the saved state in
/// `work_dir/.mtoctl/emulator/` unless `reset`.
pub async fn start(
    desired: &DesiredState,
    spec_path: &Path,
    work_dir: &Path,
    reset: bool,
) -> anyhow::Result<Embedded> {
    let local = crate::local_folder::make_in(work_dir).with_context(|| {
        format!(
            "cannot make mtoctl's local folder {}",
            work_dir.join(".mtoctl").display()
        )
    })?;
    let dir = local.join("emulator");
    std::fs::create_dir_all(&dir).with_context(|| {
        format!(
            "cannot create the emulator's state folder {}",
            dir.display()
        )
    })?;
    let state_file = dir.join(STATE_FILE);
    // Before worlds were shared, each spec had its own, named after its path.
    let legacy = dir.join(legacy_state_file_name(spec_path, work_dir));
    let saved = [&state_file, &legacy]
        .into_iter()
        .find(|f| f.exists() && !reset);
    let now = unix_ms();
    let world_file = world_path(spec_path);
    let (mut state, fresh) = match saved {
        Some(saved) => {
            let mut state = mtoctl_emulator::persist::load(saved).with_context(|| {
                format!(
                    "cannot read the emulator's state {}; start over with --emulator-reset",
                    saved.display()
                )
            })?;
            // The time between runs passes in the emulated world too.
            state.now_ms = state.now_ms.max(now);
            // Tenants a world file beside this spec describes and the world lacks join it.
            if world_file.is_some() {
                let seeded = initial_world(spec_path)?
                    .into_state(None)
                    .map_err(|e| anyhow::anyhow!("{e}"))
                    .with_context(|| world_name(spec_path))?;
                for (id, tenant) in seeded.tenants {
                    state.tenants.entry(id).or_insert(tenant);
                }
            }
            (state, false)
        }
        None => {
            let world = initial_world(spec_path)?;
            let mut state = world
                .into_state(None)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| world_name(spec_path))?;
            state.now_ms = now;
            (state, true)
        }
    };
    // A started job's first cycle runs at once (at the emulator's next request, or when the
    // next run loads the state), so that `status` right after `apply` sees users provisioned
    // instead of racing a timer.
    state.timings.sync_first_cycle = 0.0;
    let (apps, invented) =
        complete(&mut state, desired, world_file.is_none()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let options = Options {
        time_scale: TIME_SCALE,
        follow_wall_clock: true,
        state_file: Some(state_file.clone()),
        ..Options::default()
    };
    let emulator = Emulator::from_state(state, options);
    {
        // Save now, so the state exists even if this run writes nothing.
        let mut core = emulator.lock();
        core.run_due();
        core.dirty = true;
        emulator.persist_locked(&mut core);
    }
    let server = emulator
        .spawn_on_loopback()
        .await
        .context("cannot start the embedded emulator on 127.0.0.1")?;
    Ok(Embedded {
        base_url: server.base_url.clone(),
        apps,
        state_file,
        fresh,
        invented,
        _server: server,
    })
}

/// The one world of a working directory: every tenant any spec there names, by tenant id, so
/// every spec of the same organization (an exported one, a trimmed one) sees the same world.
const STATE_FILE: &str = "world.json";

/// The state file an earlier mtoctl kept for one spec, named after its path; loaded when the
/// shared world does not exist yet.
fn legacy_state_file_name(spec_path: &Path, work_dir: &Path) -> String {
    if spec_path.as_os_str() == "-" {
        return "stdin.json".into();
    }
    let absolute = std::fs::canonicalize(spec_path).unwrap_or_else(|_| spec_path.to_path_buf());
    let base = std::fs::canonicalize(work_dir).unwrap_or_else(|_| work_dir.to_path_buf());
    let shown = absolute.strip_prefix(&base).unwrap_or(&absolute);
    let mut name: String = shown
        .to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name = name.trim_matches('-').to_owned();
    if name.is_empty() {
        name = "spec".into();
    }
    format!("{name}.json")
}

fn world_path(spec_path: &Path) -> Option<PathBuf> {
    if spec_path.as_os_str() == "-" {
        return None;
    }
    let dir = match spec_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let candidate = dir.join("world.yaml");
    candidate.is_file().then_some(candidate)
}

fn world_name(spec_path: &Path) -> String {
    match world_path(spec_path) {
        Some(p) => format!("in the emulator's world file {}", p.display()),
        None => "in the world seeded from the spec".into(),
    }
}

/// The world beside the spec, or an empty one.
fn initial_world(spec_path: &Path) -> anyhow::Result<WorldFile> {
    match world_path(spec_path) {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            WorldFile::parse(&text)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| format!("in the emulator's world file {}", path.display()))
        }
        None => WorldFile::parse("tenants: []").map_err(|e| anyhow::anyhow!("{e}")),
    }
}

/// Per tenant alias: the client id and the secret of the emulated app it signs in with.
type Apps = BTreeMap<String, (String, String)>;

/// Adds what the spec needs and the state lacks: its tenants and an app registration with a
/// secret per tenant; and, when `invent` (no world file), the users and groups the sync scopes
/// name in the tenants this run created. Returns each tenant's app and what was made up.
fn complete(
    state: &mut State,
    desired: &DesiredState,
    invent: bool,
) -> Result<(Apps, Vec<String>), world::WorldError> {
    let now = state.now_ms;
    let mut rng = state.rng.clone();
    let mut apps = BTreeMap::new();
    let mut created = std::collections::BTreeSet::new();
    for tenant in &desired.tenants {
        let id = tenant.tenant_id.to_string().to_ascii_lowercase();
        let domain = tenant
            .domain
            .clone()
            .unwrap_or_else(|| format!("{}.onmicrosoft.com", tenant.alias.as_str()));
        if !state.tenants.contains_key(&id) {
            created.insert(id.clone());
            let spec = tenant_world(&id, &tenant.display_name, &domain)?;
            let built = world::build_tenant(&mut rng, spec, now)?;
            state.tenants.insert(id.clone(), built);
        }
        let Some(emulated) = state.tenants.get_mut(&id) else {
            continue;
        };
        // A credential without a client id (managed identity, Azure CLI) signs in as the
        // tenant's first app, or a new one; later runs find the same app again.
        let given = tenant.credential.client_id();
        let existing = match &given {
            Some(client_id) => emulated
                .apps
                .iter()
                .position(|a| a.client_id.eq_ignore_ascii_case(client_id)),
            None => (!emulated.apps.is_empty()).then_some(0),
        };
        let app = match existing {
            Some(index) => &mut emulated.apps[index],
            None => {
                let client_id = given.unwrap_or_else(|| rng.guid());
                let spec = tenant_with_app(&id, &domain, &client_id)?;
                let mut built = world::build_tenant(&mut rng, spec, now)?;
                emulated.apps.append(&mut built.apps);
                emulated
                    .apps
                    .last_mut()
                    .ok_or_else(|| world::WorldError::Invalid("no app was built".into()))?
            }
        };
        if app.secrets.is_empty() {
            let secret = format!("mtoctl-emulator-{}-{}", tenant.alias.as_str(), rng.guid());
            app.secrets.push(secret);
        }
        let secret = app.secrets[0].clone();
        apps.insert(
            tenant.alias.as_str().to_owned(),
            (app.client_id.clone(), secret),
        );
    }
    for sync in desired.syncs.iter().filter(|_| invent) {
        let Some(tenant) = desired.tenants.iter().find(|t| t.alias == sync.from) else {
            continue;
        };
        let id = tenant.tenant_id.to_string().to_ascii_lowercase();
        if !created.contains(&id) {
            continue;
        }
        let Some(emulated) = state.tenants.get_mut(&id) else {
            continue;
        };
        seed_scope(emulated, &mut rng, &sync.scope, now)?;
    }
    // A tenant created here without a world file starts with no users or groups: every one
    // it has now was made up for the spec.
    let mut invented = Vec::new();
    for tenant in desired.tenants.iter().filter(|_| invent) {
        let id = tenant.tenant_id.to_string().to_ascii_lowercase();
        let Some(emulated) = state.tenants.get(&id).filter(|_| created.contains(&id)) else {
            continue;
        };
        let alias = tenant.alias.as_str();
        invented.extend(
            emulated
                .users
                .iter()
                .map(|u| format!("user {} in {alias}", u.user_principal_name)),
        );
        invented.extend(
            emulated
                .groups
                .iter()
                .map(|g| format!("group \"{}\" in {alias}", g.display_name)),
        );
    }
    state.rng = rng;
    Ok((apps, invented))
}

fn seed_scope(
    tenant: &mut mtoctl_emulator::state::Tenant,
    rng: &mut mtoctl_emulator::ids::Rng,
    scope: &ScopeSpec,
    now: i64,
) -> Result<(), world::WorldError> {
    let domain = tenant.domain.clone();
    for user in &scope.users {
        let (id, upn) = match user {
            UserRef::UserPrincipalName(upn) => (None, upn.clone()),
            UserRef::ObjectId(id) => {
                let id = id.to_string().to_ascii_lowercase();
                let upn = format!("user-{}@{domain}", &id[..8]);
                (Some(id), upn)
            }
        };
        let exists = tenant.users.iter().any(|u| {
            u.user_principal_name.eq_ignore_ascii_case(&upn)
                || id
                    .as_deref()
                    .is_some_and(|id| u.id.eq_ignore_ascii_case(id))
        });
        if !exists {
            world::add_user(tenant, rng, user_world(id.as_deref(), &upn)?, now)?;
        }
    }
    for group in &scope.groups {
        let (id, name) = match group {
            GroupRef::DisplayName(name) => (None, name.clone()),
            GroupRef::ObjectId(id) => {
                let id = id.to_string().to_ascii_lowercase();
                let name = format!("Group {}", &id[..8]);
                (Some(id), name)
            }
        };
        let exists = tenant.groups.iter().any(|g| match &id {
            Some(id) => g.id.eq_ignore_ascii_case(id),
            None => g.display_name.eq_ignore_ascii_case(&name),
        });
        if exists {
            continue;
        }
        let slug: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let mut members = Vec::new();
        for n in 1..=SEEDED_GROUP_MEMBERS {
            let upn = format!("{slug}-{n}@{domain}");
            if !tenant
                .users
                .iter()
                .any(|u| u.user_principal_name.eq_ignore_ascii_case(&upn))
            {
                world::add_user(tenant, rng, user_world(None, &upn)?, now)?;
            }
            members.push(upn);
        }
        world::add_group(
            tenant,
            rng,
            group_world(id.as_deref(), &name, &members)?,
            now,
        )?;
    }
    let needs_users = scope.all_users || !scope.filter.is_empty();
    if needs_users && tenant.users.iter().all(|u| u.deleted_ms.is_some()) {
        for n in 1..=SEEDED_USERS {
            let upn = format!("user{n}@{domain}");
            world::add_user(tenant, rng, user_world(None, &upn)?, now)?;
        }
    }
    Ok(())
}

// The world file's types are built through their serde form: it is the emulator's documented
// interface (docs/emulator.md) and keeps this module independent of their Rust fields.

fn tenant_world(
    id: &str,
    display_name: &str,
    domain: &str,
) -> Result<world::TenantSpec, world::WorldError> {
    from_json(json!({"id": id, "displayName": display_name, "domain": domain}))
}

fn tenant_with_app(
    id: &str,
    domain: &str,
    client_id: &str,
) -> Result<world::TenantSpec, world::WorldError> {
    from_json(json!({
        "id": id,
        "displayName": "app",
        "domain": domain,
        "apps": [{"clientId": client_id, "displayName": "mtoctl (emulated)"}],
    }))
}

fn user_world(id: Option<&str>, upn: &str) -> Result<world::UserSpec, world::WorldError> {
    let local = upn.split('@').next().unwrap_or(upn);
    let mut user = json!({"userPrincipalName": upn, "displayName": title_case(local)});
    if let Some(id) = id {
        user["id"] = json!(id);
    }
    from_json(user)
}

fn group_world(
    id: Option<&str>,
    name: &str,
    members: &[String],
) -> Result<world::GroupSpec, world::WorldError> {
    let mut group = json!({"displayName": name, "members": members});
    if let Some(id) = id {
        group["id"] = json!(id);
    }
    from_json(group)
}

fn from_json<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, world::WorldError> {
    serde_json::from_value(value).map_err(|e| world::WorldError::Invalid(e.to_string()))
}

fn title_case(local: &str) -> String {
    local
        .split(['.', '-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4))
        .unwrap_or(0)
}
