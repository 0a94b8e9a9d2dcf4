//! Test support shared by integration tests.

pub mod cli;
pub mod http;
pub mod mock_anthropic;
pub mod mock_gemini;
pub mod mock_openai;
