//! Readiness-based IO: the event loop. (Filled by the reactor issue.)
