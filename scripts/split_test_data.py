"""Move a fixed 15% of the team-written examples into the test split.

    python scripts/split_test_data.py

Run once when new example files are added to data/train/. An example goes to
the test split when the first byte of the MD5 of its lower-cased text is below
0.15 * 256, so the split does not depend on file order and a rerun moves
nothing that is already placed. Exact duplicate texts are dropped (the first
one is kept). The test split lives in data/test/ and training never reads it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
TEST_SHARE = 0.15


def in_test(text: str) -> bool:
    return hashlib.md5(text.strip().lower().encode()).digest()[0] < TEST_SHARE * 256


def main() -> None:
    test_path = DATA / "test" / "test.jsonl"
    test_path.parent.mkdir(exist_ok=True)
    seen: set[str] = set()
    test_rows = []
    if test_path.exists():
        for line in test_path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            seen.add(row["text"].strip().lower())
            test_rows.append(row)
    for path in sorted((DATA / "train").glob("*.jsonl")):
        keep = []
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            key = row["text"].strip().lower()
            if key in seen:
                continue
            seen.add(key)
            if in_test(row["text"]):
                row["source"] = path.name
                test_rows.append(row)
            else:
                keep.append(row)
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in keep), encoding="utf-8")
        print(f"{path.name}: {len(keep)} training examples")
    test_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in test_rows), encoding="utf-8")
    print(f"test split: {len(test_rows)} examples")


if __name__ == "__main__":
    main()
