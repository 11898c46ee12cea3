//! # mtoctl-emulator: a local Microsoft Graph for multitenant organizations
//!
//! The emulator is mtoctl's test oracle and a product of its own: a
//! deterministic, in-memory Microsoft Graph that behaves like the real one for
//! everything mtoctl touches (fidelity target: `graph-reference.md`).
//!
//! **Modelled:** any number of tenants (default domain, internal users,
//! groups with direct members, app registrations with secrets, federated
//! credentials and certificate thumbprints); the client-credentials token
//! endpoint with AADSTS-shaped errors; the multitenant organization shared by
//! its tenants (tenant-local object ids, pending → joined on the virtual
//! clock, join failure reasons, asynchronous role changes and removals, owner
//! rules); cross-tenant access policy (root, default, partners, identity
//! synchronization, both MTO templates applied at join time per
//! `templateApplicationLevel`); cross-tenant synchronization (instantiate,
//! service principals, jobs, schema, secrets, assignments, validation,
//! provisioning cycles every 40 virtual minutes that create `#EXT#` users in
//! the target, with provisioning logs); users and groups with `$filter`/`$select`/`$top`/paging/
//! `$count`, delta queries; `directoryObjects/getByIds`; `$batch`; the throttling model, injected faults, latency,
//! replication and advanced-query lag; persistence; an admin API under
//! `/_emulator/` (state, clock, faults, statistics, directory "drift").
//!
//! **Not modelled:** delegated (user) tokens and signature verification of
//! client assertions; national clouds; `directoryObjects/delta`; Teams/SharePoint
//! propagation; group provisioning; every Graph property
//! beyond those listed in `docs/emulator.md`.
//!
//! Library use (for other crates' tests):
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let world = mtoctl_emulator::world::WorldFile::parse("tenants: []")?;
//! let emu = mtoctl_emulator::Emulator::from_world(world, Default::default())?;
//! let server = emu.spawn_on_loopback().await?;
//! println!("Graph at {}/v1.0", server.base_url);
//! # Ok(()) }
//! ```

pub mod admin;
pub mod auth;
pub mod batch;
pub mod clock;
pub mod core;
pub mod drift;
pub mod errors;
pub mod exchange;
pub mod faults;
pub mod github;
pub mod graph;
pub mod http;
pub mod ids;
pub mod odata;
pub mod persist;
pub mod provisioning_log;
pub mod replay;
pub mod schema;
pub mod state;
pub mod sync_engine;
pub mod throttle;
pub mod world;

use std::sync::{Arc, Mutex, MutexGuard};

use crate::core::Core;
pub use crate::core::{Latency, Options};
use crate::state::State;
use crate::world::WorldFile;

/// A running-or-not emulator: cheap to clone, shared state behind one mutex.
#[derive(Clone, Debug)]
pub struct Emulator {
    core: Arc<Mutex<Core>>,
}

/// A server started by [`Emulator::spawn_on_loopback`].
#[derive(Debug)]
pub struct Server {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub base_url: String,
    /// The listening address.
    pub addr: std::net::SocketAddr,
    /// The serving task (abort it to stop the server).
    pub handle: tokio::task::JoinHandle<()>,
    /// The emulator behind it.
    pub emulator: Emulator,
}

impl Emulator {
    /// An emulator over a world file.
    pub fn from_world(world: WorldFile, options: Options) -> Result<Self, world::WorldError> {
        let state = world.into_state(options.seed)?;
        Ok(Self::from_state(state, options))
    }

    /// An emulator over an existing state (for example one loaded from `--state`).
    pub fn from_state(state: State, options: Options) -> Self {
        Self {
            core: Arc::new(Mutex::new(Core::new(state, options))),
        }
    }

    /// Lock the core. A poisoned lock is recovered: every handler leaves the
    /// state consistent between statements that matter, and refusing all
    /// further requests would be worse for a test tool.
    pub fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Save the state if a state file is configured and something changed.
    pub fn persist_locked(&self, core: &mut Core) {
        if !core.dirty {
            return;
        }
        core.dirty = false;
        if let Some(path) = core.opts.state_file.clone() {
            core.state.now_ms = core.now();
            if let Err(e) = persist::save(&path, &core.state) {
                let mut err = std::io::stderr();
                let _ = std::io::Write::write_fmt(
                    &mut err,
                    format_args!("mtoctl-emulator: cannot save state: {e}\n"),
                );
            }
        }
    }

    /// The axum router (token endpoint, Graph, admin API).
    pub fn router(&self) -> axum::Router {
        http::router(self.clone())
    }

    /// Move the virtual clock forward and run what falls due.
    pub fn advance(&self, seconds: f64) {
        let mut core = self.lock();
        core.advance(seconds);
        core.dirty = true;
        self.persist_locked(&mut core);
    }

    /// Serve on `127.0.0.1:0` in the current tokio runtime.
    pub async fn spawn_on_loopback(&self) -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let router = self.router();
        let handle = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Server {
            base_url: format!("http://{addr}"),
            addr,
            handle,
            emulator: self.clone(),
        })
    }
}
