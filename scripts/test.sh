#!/usr/bin/env bash
# Set up .venv (if needed) and run the whole test suite: lint, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
# torch is pinned in the 'transformers' extra: a CPU build that installs from local disk.
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev,transformers,e5]'
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
