#!/usr/bin/env bash
# Set up .venv (if needed) and run the main job: the web app, opened on the bundled sample survey
# (http://localhost:8501; press "Analyse"). Extra arguments go to `streamlit run`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e .
exec .venv/bin/streamlit run app.py --server.address 127.0.0.1 "$@" -- --sample
