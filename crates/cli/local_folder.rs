//! `.mtoctl/`: mtoctl's local files (the embedded emulator's world under the working directory,
//! the known ids beside the spec), with a `.gitignore` that keeps them out of commits.

use std::path::{Path, PathBuf};

/// `parent/.mtoctl`, made with its `.gitignore` when either is missing.
pub fn make_in(parent: &Path) -> std::io::Result<PathBuf> {
    let folder = parent.join(".mtoctl");
    std::fs::create_dir_all(&folder)?;
    // The emulator's state holds its apps' secrets; none of it is of use to anyone else.
    let ignore = folder.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(
            &ignore,
            "# mtoctl's local files (emulated world, known ids)\n*\n",
        )?;
    }
    Ok(folder)
}
