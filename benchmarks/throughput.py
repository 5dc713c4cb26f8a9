"""Throughput and memory of the analysis pipeline.

    python benchmarks/throughput.py N [--encoder NAME]

Generates N unique comments (the team's labelled Dutch and English comments,
drawn at random and numbered), then measures in separate processes:
- the whole pipeline (``analyse`` on a CSV, embedding cache off), and
- the encoder alone on the same texts,
and prints comments per second and the peak memory (max RSS) of each.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def generate(n: int, seed: int = 0) -> pd.DataFrame:
    """N unique comments: the team's labelled comments (Dutch and English, short
    and long, as written), drawn at random, each made unique by a number."""
    import json

    texts = [
        json.loads(line)["text"]
        for path in sorted((REPO / "data" / "train").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    rng = random.Random(seed)
    rows = [{"id": f"g{i}", "team": f"team {i % 25}", "comment": f"{rng.choice(texts)} ({i})"} for i in range(n)]
    return pd.DataFrame(rows)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_stage(stage: str, path: str, encoder: str) -> dict:
    from analyser import Settings, analyse
    from analyser.encoding import make_encoder

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if stage == "pipeline":
        started = time.perf_counter()
        result = analyse(path, settings=Settings(encoder=encoder, use_cache=False))
        seconds = time.perf_counter() - started
        return {
            "seconds": seconds,
            "rows": len(result.comments),
            "timings": result.metadata.timings,
            "peak_mb": peak_mb(),
        }
    model = make_encoder(encoder)
    model.encode(["warm-up"])  # load weights outside the timed part, as the pipeline's fit does
    started = time.perf_counter()
    model.encode(frame["comment"].tolist())
    return {"seconds": time.perf_counter() - started, "rows": len(frame), "peak_mb": peak_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int, help="number of comments to generate")
    parser.add_argument("--encoder", default="use-multilingual")
    parser.add_argument("--stage", choices=["pipeline", "encoder"], help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(run_stage(args.stage, args.input, args.encoder)))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.csv"
        generate(args.n).to_csv(path, index=False)
        results = {}
        for stage in ("encoder", "pipeline"):
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    str(args.n),
                    "--encoder",
                    args.encoder,
                    "--stage",
                    stage,
                    "--input",
                    str(path),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            results[stage] = json.loads(done.stdout.strip().splitlines()[-1])
    pipeline, encoder = results["pipeline"], results["encoder"]
    print(f"comments:            {args.n}  (encoder {args.encoder}, embedding cache off)")
    print(
        f"pipeline:            {pipeline['rows'] / pipeline['seconds']:.0f} comments/s  "
        f"({pipeline['seconds']:.1f} s, incl. model loading {pipeline['timings'].get('load_models', 0):.1f} s)"
    )
    print(f"encoder alone:       {encoder['rows'] / encoder['seconds']:.0f} comments/s  ({encoder['seconds']:.1f} s)")
    print(f"pipeline / encoder:  {pipeline['seconds'] / encoder['seconds']:.2f} x the encoder-alone time")
    # The encoder-alone figure loads its weights before the clock starts; this
    # line shows the pipeline on the same footing (its one-off model loading
    # left out), next to the end-to-end figure above, which stays the target.
    loading = pipeline["timings"].get("load_models", 0.0)
    print(
        f"  without loading:   {(pipeline['seconds'] - loading) / encoder['seconds']:.2f} x "
        f"({pipeline['rows'] / (pipeline['seconds'] - loading):.0f} comments/s)"
    )
    print(f"peak memory:         pipeline {pipeline['peak_mb']:.0f} MB, encoder alone {encoder['peak_mb']:.0f} MB")
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in pipeline["timings"].items())
    print(f"pipeline stages:     {stages}")


if __name__ == "__main__":
    main()
