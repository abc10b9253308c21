//! Integration tests: suite.
