//! Integration tests of the core crate against the simulator.
