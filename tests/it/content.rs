//! Integration tests: content.
