//! `.mtoctl/known-ids.json` beside the spec: the ids of the sync configurations and jobs the
//! last run saw or made (`mtoctl_model::known`), read before the live state is and written
//! after it, so that the next read asks for their details one or two round trips sooner.
//!
//! An optimisation only: a file that is missing, unreadable, too large, of another version or
//! not writable is passed over (said at debug level), and what it holds decides nothing. It
//! holds object ids and lowercased configuration names, never a secret; it is written readable
//! by its owner only, and `.mtoctl/.gitignore` keeps it out of commits.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use mtoctl_exec::{ActionStatus, RunReport};
use mtoctl_model::known::KnownIds;
use mtoctl_model::plan::ResourceAddr;
use mtoctl_model::{DesiredState, ObservedState};

/// The file's name in `.mtoctl/`.
const FILE_NAME: &str = "known-ids.json";
/// A larger file is not read: 5,000 tenants of a few configurations each fit in well under it.
const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// The known ids of one run, and where they are kept (nowhere with `--no-known-ids`, or for a
/// spec read from standard input).
#[derive(Debug, Default)]
pub struct KnownIdsFile {
    path: Option<PathBuf>,
    known: Mutex<KnownIds>,
}

impl KnownIdsFile {
    /// Ids neither read nor kept.
    pub fn off() -> Self {
        Self::default()
    }

    /// The ids kept beside the spec at `spec_path`, read now.
    pub fn beside(spec_path: &Path) -> Self {
        if spec_path.as_os_str() == "-" {
            return Self::off();
        }
        let path = crate::session::spec_dir(spec_path)
            .join(".mtoctl")
            .join(FILE_NAME);
        let known = match read(&path) {
            Ok(Some(known)) => known,
            Ok(None) => KnownIds::default(),
            Err(why) => {
                tracing::debug!(file = %path.display(), %why, "known ids passed over");
                KnownIds::default()
            }
        };
        Self {
            path: Some(path),
            known: Mutex::new(known),
        }
    }

    /// What is known now.
    pub fn get(&self) -> KnownIds {
        self.lock().clone()
    }

    /// What a read of `desired`'s tenants found, kept.
    pub fn learn_observed(&self, desired: &DesiredState, observed: &ObservedState) {
        if self.path.is_none() {
            return;
        }
        let mut known = self.lock();
        known.learn_observed(desired, observed, now_s());
        self.save(&known);
    }

    /// The configurations and jobs a run made or adopted, kept.
    pub fn learn_run(&self, desired: &DesiredState, run: &RunReport) {
        if self.path.is_none() {
            return;
        }
        // One pass over the actions (an apply from scratch has one per assignment), the last
        // success at each address of a configuration or its job winning.
        let mut wanted: HashMap<ResourceAddr, (usize, bool)> = HashMap::new();
        for (i, sync) in desired.syncs.iter().enumerate() {
            let from = sync.from.as_str();
            wanted.insert(ResourceAddr::sync(from, &sync.name), (i, false));
            wanted.insert(ResourceAddr::sync_part(from, &sync.name, "job"), (i, true));
        }
        let mut made: HashMap<(usize, bool), &str> = HashMap::new();
        for action in &run.actions {
            if let (Some(key), ActionStatus::Ok { created }) =
                (wanted.get(&action.addr), &action.status)
                && let Some(id) = created.id.as_deref()
            {
                made.insert(*key, id);
            }
        }
        if made.is_empty() {
            return;
        }
        let mut known = self.lock();
        let now = now_s();
        // Configurations before jobs: a job is kept under the configuration of its name.
        for job in [false, true] {
            for (i, sync) in desired.syncs.iter().enumerate() {
                let (Some(id), Some(tenant)) = (made.get(&(i, job)), desired.tenant(&sync.from))
                else {
                    continue;
                };
                if job {
                    known.learn_job(&tenant.tenant_id, &sync.name, id);
                } else {
                    known.learn_configuration(&tenant.tenant_id, &sync.name, id, now);
                }
            }
        }
        self.save(&known);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, KnownIds> {
        // Nothing panics while holding it; if something did, what it held is still ids.
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Written whole to a file of its own, then renamed over the old one, so that a run
    /// reading it meanwhile sees one or the other.
    fn save(&self, known: &KnownIds) {
        let Some(path) = &self.path else { return };
        if let Err(why) = write(path, known) {
            tracing::debug!(file = %path.display(), %why, "known ids not kept");
        }
    }
}

fn read(path: &Path) -> std::io::Result<Option<KnownIds>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_BYTES} bytes"
        )));
    }
    let known: KnownIds = serde_json::from_slice(&bytes).map_err(std::io::Error::other)?;
    Ok(known.checked())
}

fn write(path: &Path, known: &KnownIds) -> std::io::Result<()> {
    let dir = path
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| std::io::Error::other("no folder"))?;
    let dir = crate::local_folder::make_in(dir)?;
    let json = serde_json::to_vec(known).map_err(std::io::Error::other)?;
    let temporary = dir.join(format!("{FILE_NAME}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&temporary)
        .and_then(|mut f| f.write_all(&json))
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
