//! Test support shared by integration tests.

pub mod mock_anthropic;
