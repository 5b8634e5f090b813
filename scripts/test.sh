#!/usr/bin/env bash
# The whole test suite: formatting, lints, the one-crypto-provider rule, every Rust test, and
# the third-party-client compatibility suite (py-consul, installed into a venv by its script).
# This is the command the README gives and the one CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "==> one crypto provider (aws-lc-rs): ring must not be built"
if ring_users=$(cargo tree -i ring -e normal --workspace 2>/dev/null) && [ -n "$ring_users" ]; then
    echo "ring is in the build graph:"; echo "$ring_users"; exit 1
fi

echo "==> tests"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast --failure-output final
else
    cargo test --workspace --no-fail-fast
fi

echo "==> compatibility suite: py-consul (PyPI) against a real agent"
tests/compat/run.sh
