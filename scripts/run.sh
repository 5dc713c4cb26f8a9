#!/usr/bin/env bash
# Set up .venv (if needed) and run the main job: label the bundled sample survey.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e .
.venv/bin/analyser analyse data/samples/trust_survey_sample.csv --out labelled_sample.xlsx "$@"
