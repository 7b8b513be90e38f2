#!/usr/bin/env bash
# The project's test command: every crate's unit, integration and doc tests.
# Integration tests spawn the built programs on 127.0.0.1 port 0.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-targets
cargo test --workspace --doc
