"""Mapping a stage over batches, in this process or in worker processes.

Labelling a batch is a pure function of the fitted models, so batches can be
handed to worker processes unchanged (and later to a distributed engine). On
this kind of machine that pays: the default encoder's NumPy forward pass gains
only about 1.4x from a second BLAS thread, while its tokenizer, the language
detector, spaCy and the heads are single-threaded Python; two processes with
one BLAS thread each keep both cores busy.

Workers are forked from the process that already holds the fitted models, so
they start in milliseconds and share the weights' memory pages. Forking a
process that runs other threads (a web server) can deadlock the child, so the
workers are used only from a single-threaded process and only with encoders
that say they are safe to fork (torch's thread pool is not); otherwise, and
whenever a worker fails to start or dies, the batches run here.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

Batch = TypeVar("Batch")
Result = TypeVar("Result")

# The function a forked worker runs, inherited from the parent at fork time
# (so the fitted models are never pickled).
_WORKER_FUNCTION: Callable[[Any], Any] | None = None
_WORKER_SETUP: Callable[[], None] | None = None


def _initialise_worker() -> None:
    if _WORKER_SETUP is not None:
        _WORKER_SETUP()


def _run_in_worker(batch: Any) -> Any:
    assert _WORKER_FUNCTION is not None, "worker started without a function"
    return _WORKER_FUNCTION(batch)


def fork_is_safe() -> bool:
    """Forking is safe here: a fork start method exists and no other thread runs."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def resolve_workers(requested: int, rows: int, min_rows: int, fork_safe_encoder: bool) -> int:
    """How many worker processes to use: ``requested`` > 0 is taken as given
    (1 = in this process); 0 (auto) uses the cores for large inputs when
    forking is safe."""
    if requested > 0:
        return requested if requested == 1 or (fork_is_safe() and fork_safe_encoder) else 1
    if rows < min_rows or not fork_safe_encoder or not fork_is_safe():
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def map_batches(
    function: Callable[[Batch], Result],
    batches: Sequence[Batch],
    workers: int = 1,
    setup: Callable[[], None] | None = None,
    on_fallback: Callable[[str], None] | None = None,
) -> Iterator[Result]:
    """``function`` over ``batches``, results in order.

    With ``workers`` > 1 the batches go to forked worker processes, each
    running ``setup`` once (e.g. to use one BLAS thread). If the pool breaks,
    ``on_fallback`` hears why and the remaining batches run in this process.
    """
    if workers <= 1 or len(batches) <= 1:
        yield from map(function, batches)
        return
    global _WORKER_FUNCTION, _WORKER_SETUP
    _WORKER_FUNCTION, _WORKER_SETUP = function, setup
    done = 0
    try:
        with ProcessPoolExecutor(
            max_workers=min(workers, len(batches)),
            mp_context=multiprocessing.get_context("fork"),
            initializer=_initialise_worker,
        ) as pool:
            for result in pool.map(_run_in_worker, batches):
                done += 1
                yield result
    except (BrokenProcessPool, OSError) as exc:
        if on_fallback:
            on_fallback(f"worker processes failed ({exc}); the remaining batches ran in one process")
        yield from map(function, batches[done:])
    finally:
        _WORKER_FUNCTION = _WORKER_SETUP = None
