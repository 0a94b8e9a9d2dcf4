//! Tests of the demo agent's pure parts and its edits in a temporary worktree.

#[allow(unused_imports)]
use super::*;
