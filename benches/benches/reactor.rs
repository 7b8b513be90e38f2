//! Placeholder until the reactor benchmark lands.
fn main() {}
