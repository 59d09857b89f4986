//! Test harness shared by the integration tests: start a simulator, temporary directories.
