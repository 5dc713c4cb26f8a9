"""How well a second careful coder agrees with the test split's labels.

    python benchmarks/coder_agreement.py

``data/agreement/second_coder_{en,nl}.jsonl`` hold a second, blind coding of
every comment in ``data/test/test.jsonl`` (``id`` is the line number there,
from 0): coded from ``../shared/spec/labels.md`` alone, without seeing the
split's labels or the analyser's output. The agreement, scored exactly like
``analyser evaluate`` scores the model, shows what careful reading of the
spec reaches on these comments: the yardstick for the model's figures.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def label_vector(row: dict, keys: list[str]) -> list[bool]:
    given = {key for key in f"{row['dimensions']};{row['areas']}".split(";") if key}
    return [key in given for key in keys]


def main() -> None:
    from analyser.evaluation import evaluate_predictions, format_evaluation
    from analyser.taxonomy import load_taxonomy

    keys = load_taxonomy().keys
    gold = [json.loads(line) for line in (REPO / "data" / "test" / "test.jsonl").read_text("utf-8").splitlines()]
    coded = [
        json.loads(line)
        for path in sorted((REPO / "data" / "agreement").glob("second_coder_*.jsonl"))
        for line in path.read_text("utf-8").splitlines()
    ]
    if sorted(row["id"] for row in coded) != list(range(len(gold))):
        sys.exit("The second coding does not cover every test comment exactly once.")
    truth = np.array([label_vector(gold[row["id"]], keys) for row in coded], dtype=bool)
    second = np.array([label_vector(row, keys) for row in coded], dtype=bool)
    evaluation = evaluate_predictions(
        truth,
        second,
        keys,
        [gold[row["id"]]["language"] for row in coded],
        [gold[row["id"]]["tone"] for row in coded],
        [row["tone"] for row in coded],
    )
    print("Second coder against the test split's labels (scored like `analyser evaluate`):")
    print(format_evaluation(evaluation))


if __name__ == "__main__":
    main()
