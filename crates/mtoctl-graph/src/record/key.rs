//! The key file of `--record-key`: every pseudonym of a transcript and what it stands for,
//! `{"format_version":"1.0","originals":{"Name 1":"Contoso",…}}`, created readable by its
//! owner only (mode 0600 on unix).
//!
//! It is written as the transcript is: each exchange's new pseudonyms are added before its
//! line is, in one write that puts the closing braces back, so the file is a complete JSON
//! document after every exchange and covers every line of the transcript even when mtoctl is
//! killed. What this does not do: decide the pseudonyms, or read a key back.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;

/// What closes the document after the last entry.
const CLOSING: &[u8] = b"}}\n";

/// An open key file.
#[derive(Debug)]
pub(super) struct KeyFile {
    file: File,
    /// Where the closing braces start.
    end: u64,
    /// How many entries are in the file.
    pub(super) written: usize,
}

impl KeyFile {
    /// Creates the file (replacing one that exists) with no entries.
    pub(super) fn create(path: &Path) -> io::Result<Self> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path)?;
        let opening = format!(
            "{{\"format_version\":{},\"originals\":{{",
            serde_json::Value::from(super::KEY_FORMAT_VERSION)
        );
        file.write_all(opening.as_bytes())?;
        file.write_all(CLOSING)?;
        Ok(Self {
            file,
            end: opening.len() as u64,
            written: 0,
        })
    }

    /// Adds `entries` (pseudonym, original) after those already written.
    pub(super) fn append(&mut self, entries: &[(String, String)]) -> io::Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::new();
        for (i, (pseudonym, original)) in entries.iter().enumerate() {
            if self.written + i > 0 {
                buf.push(b',');
            }
            serde_json::to_writer(&mut buf, pseudonym)?;
            buf.push(b':');
            serde_json::to_writer(&mut buf, original)?;
        }
        let added = buf.len() as u64;
        buf.extend_from_slice(CLOSING);
        self.file.seek(SeekFrom::Start(self.end))?;
        self.file.write_all(&buf)?;
        self.end += added;
        self.written += entries.len();
        Ok(())
    }
}
