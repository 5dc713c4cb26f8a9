"""Throughput and memory of the analysis pipeline.

    python benchmarks/throughput.py N [--encoder NAME]

Generates N unique comments (the team's labelled Dutch and English comments,
drawn at random and numbered), then measures in separate processes:
- the whole pipeline (``analyse`` on a CSV, embedding cache off), and
- the encoder alone on the same texts,
and prints comments per second and the peak memory of each.

Times: both end to end (each loading its own models inside the clock), and
both without their one-off model loading. Memory: the peak of the sum of the
proportional set size (PSS: shared pages split between the processes that
share them) over the process and its worker processes, sampled every 50 ms,
next to the largest single-process peak RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import threading
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
    """The largest peak RSS of this process or any worker it waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:  # the process ended between listing and reading
        pass
    return 0


def _tree(pid: int) -> list[int]:
    found = [pid]
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            for token in child.read_text().split():
                found.extend(_tree(int(token)))
        except OSError:
            pass
    return found


class MemorySampler:
    """Peak of the summed PSS of a process and its descendants (Linux /proc),
    sampled from outside so that the measured process keeps a single thread."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid = pid
        self.every = every
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(pid) for pid in _tree(self.pid)))
            self._stop.wait(self.every)

    def __enter__(self) -> MemorySampler:
        if Path("/proc/self/smaps_rollup").exists():
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def run_stage(stage: str, path: str, encoder: str, workers: int) -> dict:
    from analyser import Settings, analyse
    from analyser.encoding import make_encoder

    if stage == "pipeline":
        started = time.perf_counter()
        result = analyse(path, settings=Settings(encoder=encoder, use_cache=False, workers=workers))
        seconds = time.perf_counter() - started
        return {
            "seconds": seconds,
            "rows": len(result.comments),
            "timings": result.metadata.timings,
            "peak_mb": peak_mb(),
        }
    started = time.perf_counter()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    model = make_encoder(encoder)
    model.encode(["warm-up"])  # loads the weights
    loaded = time.perf_counter()
    model.encode(frame["comment"].tolist())
    done = time.perf_counter()
    return {
        "seconds": done - started,
        "rows": len(frame),
        "timings": {"load_models": loaded - started},
        "peak_mb": peak_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int, help="number of comments to generate")
    parser.add_argument("--encoder", default="use-multilingual")
    parser.add_argument("--workers", type=int, default=0, help="worker processes (0: automatic, 1: none)")
    parser.add_argument("--stage", choices=["pipeline", "encoder"], help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(run_stage(args.stage, args.input, args.encoder, args.workers)))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.csv"
        generate(args.n).to_csv(path, index=False)
        results = {}
        for stage in ("encoder", "pipeline"):
            command = [sys.executable, __file__, str(args.n), "--encoder", args.encoder]
            command += ["--workers", str(args.workers), "--stage", stage, "--input", str(path)]
            child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            with MemorySampler(child.pid) as memory:
                out, err = child.communicate()
            if child.returncode:
                sys.exit(f"{stage} run failed:\n{err}")
            results[stage] = json.loads(out.strip().splitlines()[-1])
            results[stage]["pss_mb"] = memory.peak_kb / 1024
    pipeline, encoder = results["pipeline"], results["encoder"]
    rows = pipeline["rows"]
    p_load, e_load = pipeline["timings"].get("load_models", 0.0), encoder["timings"]["load_models"]
    p_run, e_run = pipeline["seconds"] - p_load, encoder["seconds"] - e_load
    workers = args.workers or "auto"
    print(f"comments:            {args.n}  (encoder {args.encoder}, embedding cache off, workers {workers})")
    print(
        f"pipeline:            {rows / pipeline['seconds']:.0f} comments/s end to end "
        f"({pipeline['seconds']:.1f} s, of which model loading {p_load:.1f} s)"
    )
    print(
        f"encoder alone:       {rows / encoder['seconds']:.0f} comments/s end to end "
        f"({encoder['seconds']:.1f} s, of which model loading {e_load:.1f} s)"
    )
    print(f"pipeline / encoder:  {pipeline['seconds'] / encoder['seconds']:.2f} x end to end")
    print(
        f"  without loading:   {p_run / e_run:.2f} x  (pipeline {rows / p_run:.0f} comments/s, "
        f"encoder {rows / e_run:.0f} comments/s)"
    )
    print(
        f"peak memory:         pipeline {pipeline['pss_mb']:.0f} MB, encoder alone {encoder['pss_mb']:.0f} MB "
        f"(summed PSS of all processes); largest single process RSS: pipeline {pipeline['peak_mb']:.0f} MB, "
        f"encoder {encoder['peak_mb']:.0f} MB"
    )
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in pipeline["timings"].items())
    print(f"pipeline stages:     {stages}  (language, features, classify: summed over workers)")


if __name__ == "__main__":
    main()
