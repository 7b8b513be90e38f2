//! The programs and their per-socket state machines.
