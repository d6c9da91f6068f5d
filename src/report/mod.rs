//! Rendering results: terminal tables and the plan review of `inspect`.

pub mod inspect;
pub mod text;
