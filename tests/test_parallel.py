"""Labelling in worker processes gives the same result as in one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from analyser.parallel import map_batches, resolve_workers

from .conftest import REPO

# Run in a fresh interpreter: forking needs a single-threaded process, and the
# test session may hold threads from other tests (servers, the app harness).
COMPARE = r"""
import json, sys
import numpy as np
from analyser import Settings, analyse
path, cache = sys.argv[1], sys.argv[2]
results = {}
for workers in (1, 2):
    settings = Settings(workers=workers, batch_size=16, cache_dir=cache, use_cache=True)
    results[workers] = analyse(path, settings=settings)
again = analyse(path, settings=Settings(workers=1, batch_size=16, cache_dir=cache, use_cache=True))
one, two = results[1], results[2]
columns = ["status", "language", "dimensions", "areas", "tone", "evidence", "cues"]
scores = [c for c in one.comments if c.startswith("score_")]
print(json.dumps({
    "workers": [one.metadata.workers, two.metadata.workers, again.metadata.workers],
    "notes": two.metadata.notes,
    "same_columns": {c: one.comments[c].tolist() == two.comments[c].tolist() for c in columns},
    "score_gap": float(np.nanmax(np.abs(one.comments[scores].to_numpy(float) - two.comments[scores].to_numpy(float)))),
    "embedding_gap": float(np.nanmax(np.abs(one.embeddings - two.embeddings))),
    "statuses": two.comments["status"].tolist(),
    "cache": [one.metadata.cache, two.metadata.cache, again.metadata.cache],
}))
"""


def test_two_workers_label_like_one_process(sample_path: Path, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-c", COMPARE, str(sample_path), str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["workers"] == [1, 2, 1], report
    assert report["notes"] == [] or all("worker" not in note for note in report["notes"])
    assert all(report["same_columns"].values()), report["same_columns"]
    # One BLAS thread instead of two may change the last bits of a sum.
    assert report["score_gap"] < 1e-3 and report["embedding_gap"] < 1e-4
    assert {"ok", "duplicate", "empty"} <= set(report["statuses"])
    first, second, third = report["cache"]
    # The first run filled the cache; the worker run read it and counted its
    # workers' hits as a third run in one process does.
    assert first["misses"] > 0 and second["misses"] == 0 and second["hits"] > 0
    assert third == second


def _square(batch: list[int]) -> list[int]:
    return [x * x for x in batch]


def test_map_batches_keeps_order_in_one_process() -> None:
    batches = [[1, 2], [3], [4, 5, 6]]
    assert list(map_batches(_square, batches, workers=1)) == [[1, 4], [9], [16, 25, 36]]


PARENT = os.getpid()


def _dies_in_a_worker(batch: list[int]) -> list[int]:
    if os.getpid() != PARENT:
        os._exit(3)  # a worker killed mid-batch (out of memory, say)
    return _square(batch)


def test_a_dead_worker_means_the_batches_run_here(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("analyser.parallel.threading.active_count", lambda: 1)
    heard: list[str] = []
    batches = [[1], [2], [3], [4]]
    assert list(map_batches(_dies_in_a_worker, batches, workers=2, on_fallback=heard.append)) == [[1], [4], [9], [16]]
    assert len(heard) == 1 and "one process" in heard[0]


def test_workers_only_where_forking_is_safe(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("analyser.parallel.threading.active_count", lambda: 1)
    assert resolve_workers(0, 10_000, 2000, fork_safe_encoder=True) == min(os.cpu_count() or 1, 4)
    assert resolve_workers(0, 100, 2000, fork_safe_encoder=True) == 1  # small input: not worth a fork
    assert resolve_workers(0, 10_000, 2000, fork_safe_encoder=False) == 1  # torch encoders stay here
    assert resolve_workers(3, 10, 2000, fork_safe_encoder=True) == 3
    monkeypatch.setattr("analyser.parallel.threading.active_count", lambda: 5)  # e.g. inside the web app
    assert resolve_workers(0, 10_000, 2000, fork_safe_encoder=True) == 1
    assert resolve_workers(2, 10_000, 2000, fork_safe_encoder=True) == 1


def test_negative_workers_is_a_clear_error() -> None:
    import pytest

    from analyser import Settings
    from analyser.errors import ConfigurationError
    from analyser.pipeline import Analyser

    with pytest.raises(ConfigurationError, match="cannot be negative"):
        Analyser(Settings(workers=-1))


def test_background_loading_reports_its_error_and_ends_before_any_fork() -> None:
    import threading

    import pytest

    from analyser.errors import ConfigurationError
    from analyser.pipeline import _BackgroundLoad

    def fails() -> None:
        raise ConfigurationError("The language model cannot be read.", "Reinstall py3langid.")

    with pytest.raises(ConfigurationError, match="language model"):
        _BackgroundLoad(fails).join()
    loaded: list[str] = []
    before = threading.active_count()
    _BackgroundLoad(lambda: loaded.append("done")).join()
    # join() means the thread has ended: forking workers afterwards stays safe.
    assert loaded == ["done"] and threading.active_count() == before
