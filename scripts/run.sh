#!/usr/bin/env bash
# Set up .venv (if needed) and run the main job on the bundled sample survey:
# the labelled comments (labelled_sample.xlsx) and the report for leaders (report.html).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e .
.venv/bin/analyser analyse data/samples/trust_survey_sample.csv --out labelled_sample.xlsx "$@"
.venv/bin/analyser report data/samples/trust_survey_sample.csv --out report.html --group-column team -q "$@"
