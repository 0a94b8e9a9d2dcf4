//! What `import` reads from a run directory is redacted before it reaches git, like everything
//! grind stores: the directory may come from another tool or an older pitboss, and imported
//! runs are pushed like any other. Records, `run.json` and `state.json` have their strings
//! redacted (left byte for byte as they were when nothing is found, so export → import →
//! export stays identical); the scratchpad and patches as text; transcripts are streamed into a
//! temporary file redacted.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::layout::LayoutError;
use crate::agent::{Redactor, redact_copy};

/// `x` with every string redacted; untouched when there was nothing to redact (or, which does
/// not happen for our own types, when it does not go through JSON and back).
pub(super) fn redact_value<T: Serialize + DeserializeOwned>(redactor: &Redactor, x: &mut T) {
    let Ok(mut v) = serde_json::to_value(&*x) else {
        return;
    };
    if redactor.redact_json(&mut v)
        && let Ok(back) = serde_json::from_value(v)
    {
        *x = back;
    }
}

/// The transcript `f` (at `path`) redacted into an unnamed temporary file, read from its start.
pub(super) fn redacted_transcript(
    redactor: &Redactor,
    mut f: File,
    path: &Path,
) -> Result<File, LayoutError> {
    let failed = |source| LayoutError::Io {
        what: "cannot read",
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::tempfile().map_err(failed)?;
    redact_copy(redactor, &mut f, &mut tmp).map_err(failed)?;
    tmp.seek(SeekFrom::Start(0)).map_err(failed)?;
    Ok(tmp)
}
