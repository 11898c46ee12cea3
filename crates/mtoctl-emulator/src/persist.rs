//! State persistence: the whole state as JSON, written atomically (temp file
//! in the same directory, fsync, rename), so a kill -9 leaves either the old
//! or the new file, never a torn one.

use std::io::Write as _;
use std::path::Path;

use crate::state::State;

/// Save `state` to `path` atomically.
pub fn save(path: &Path, state: &State) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("state.json");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        // Persist the rename itself; not all platforms allow syncing a directory.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Load a state file.
pub fn load(path: &Path) -> anyhow::Result<State> {
    let text = std::fs::read_to_string(path)?;
    Ok(serde_json::from_str(&text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let dir = std::env::temp_dir().join(format!("mtoctl-emu-persist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("s.json");
        let mut rng = crate::ids::Rng::new(3);
        let s = State::empty(&mut rng, 5);
        save(&p, &s).unwrap();
        let back = load(&p).unwrap();
        assert_eq!(back.now_ms, 5);
        assert_eq!(back.signing_key, s.signing_key);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
