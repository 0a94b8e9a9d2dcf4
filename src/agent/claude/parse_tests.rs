//! Tests of the Claude stream parser on fixtures recorded from the real CLI.

#[allow(unused_imports)]
use super::*;
