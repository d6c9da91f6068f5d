//! Rendering a summary: terminal tables, CSV, JSON, JUnit, HTML and baseline comparison.
