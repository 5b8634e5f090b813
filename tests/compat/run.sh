#!/usr/bin/env bash
# Compatibility suite: drives a real `legate agent -dev` with py-consul, a third-party Consul
# client from PyPI, across the HTTP API. Needs only python3 (with venv), cargo and PyPI.
#
# The virtualenv lives under the cargo target dir and is reused while requirements.txt and
# the Python version are unchanged, so a re-run costs a cargo no-op build plus the tests.
# Extra arguments go to pytest (e.g. `tests/compat/run.sh -k kv -x`).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
venv="$target_dir/compat-venv"
reqs="$repo/tests/compat/requirements.txt"
stamp="$venv/.compat-requirements"

want="$(python3 --version 2>&1) $(sha256sum "$reqs" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "==> compat: installing $(basename "$reqs") into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet -r "$reqs"
    echo "$want" > "$stamp"
fi

echo "==> compat: cargo build -p legate"
cargo build -p legate --quiet
export LEGATE_BIN="$target_dir/debug/legate"

echo "==> compat: pytest tests/compat"
status=0
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/compat "$@" \
    || status=$?
if [ "$status" -eq 5 ]; then
    echo "compat: pytest collected no tests; treating that as a failure" >&2
fi
exit "$status"
