//! The commands that move runs between repositories: `push`, `fetch`, `sync`, `pr`, and the
//! file-based doors `export` and `import`, with the plumbing the remote ones share (resolving
//! remotes and runs, printing push and fetch reports and what happened to code branches).

pub(super) mod export;
pub(super) mod fetch;
pub(super) mod import;
pub(super) mod pr;
pub(super) mod push;
pub(super) mod remote;
pub(super) mod remote_branch;
pub(super) mod sync;
