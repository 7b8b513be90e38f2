#!/usr/bin/env bash
# The project's test command: every crate's unit, integration and doc tests.
# Integration tests spawn the built programs on 127.0.0.1 port 0.
set -euo pipefail
cd "$(dirname "$0")/.."
# The examples as programs: reactor/tests/examples.rs runs them, and
# `cargo test --all-targets` alone builds examples only as test harnesses.
cargo build --workspace --examples
cargo test --workspace --all-targets
cargo test --workspace --doc
