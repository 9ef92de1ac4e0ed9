"""Both cores for one file: the chunks of a file of leads validated, scored and written out
as text by worker processes while the main process reads the file and writes the results.

What runs in a worker is what runs in the main process for a small file — the same
function on the same chunk (``jobs.score.scored_chunk``: ``leads.validate_chunk``, then
``score_batch`` and ``writers.encode_batch``) — and a lead's scores depend on that lead
alone, to the last bit, so the output is the same, byte for byte, whatever the number of
workers and the size of the chunks (``tests/jobs/test_parallel.py``). Results come back
in the order the work was given; at most a few chunks are in flight, so memory stays
bounded. Workers are started with ``spawn`` (a fresh interpreter: nothing of the main
process's threads or open files is inherited, on every platform) and receive the
bundle's verified bytes, never its folder. Workers are processes, not threads: validation
and the output text are Python code that holds the GIL (measured: 2 threads gave no gain).
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from pathlib import Path

from prospect_predictor import faults

PARALLEL_MIN_ROWS = 100_000
"""Files with fewer rows are scored in the main process: starting a worker costs about
0.6 s (a fresh interpreter importing pandas and NumPy), which a file this size repays."""

PARALLEL_MIN_BYTES = 16_000_000  # about 100,000 leads of two dozen columns, as CSV
WORKERS_VARIABLE = "PROSPECT_PREDICTOR_WORKERS"


def worker_count(path: Path) -> int:
    """How many worker processes to score the file ``path`` with: none for a file under
    :data:`PARALLEL_MIN_ROWS` rows (a Parquet file says its rows; a CSV file is judged by
    its size, :data:`PARALLEL_MIN_BYTES`), else one per core this process may use.
    ``PROSPECT_PREDICTOR_WORKERS`` sets it (0 or 1: the main process alone)."""
    given = os.environ.get(WORKERS_VARIABLE, "").strip()
    if given:
        try:
            count = int(given)
        except ValueError:
            from prospect_predictor.errors import ProspectError

            raise ProspectError(
                f"{WORKERS_VARIABLE}={given!r}: expected a whole number of worker processes"
            ) from None
        return count if count > 1 else 0
    from prospect_predictor.data.tableio import parquet_rows

    rows = parquet_rows(path)
    big = rows >= PARALLEL_MIN_ROWS if rows is not None else _size(path) >= PARALLEL_MIN_BYTES
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores if big and (cores or 1) > 1 else 0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # reported when the file is read
        return 0


def start_pool(workers: int, bundle) -> Executor | None:
    """A pool of ``workers`` processes, each holding ``bundle`` rebuilt from its bytes (None
    for no worker)."""
    if workers < 2:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_hold_bundle,
        initargs=(str(bundle.path), bundle.files),
    )
    for _ in range(workers):  # start them now: they load while the file's first pass runs
        pool.submit(int)
    return pool


def ordered(
    pool: Executor | None, function: Callable, items: Iterable[tuple], ahead: int
) -> Iterator:
    """``function(*item)`` for each item, in order: in the pool with at most ``ahead`` items
    given out beyond the one waited for, or here, one at a time, without a pool."""
    if pool is None:
        for item in items:
            yield function(*item)
        return
    pending: deque = deque()
    for item in items:
        pending.append(pool.submit(function, *item))
        if len(pending) > ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


_HELD: dict = {}  # in a worker: the bundle it was given


def one_blas_thread():
    """A context in which this process's matrix products run on one BLAS thread, as they
    do in the workers. The last bits of a product can depend on how BLAS splits it between
    threads. The scoring forms no longer compute one (``fastshap`` sums in a fixed order),
    so this guards what a form or library may compute by BLAS (the Pipeline's linear SHAP,
    a kind to come): the bytes then depend neither on the workers nor on the cores."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def keep_freed_memory() -> bool:
    """Ask glibc to keep the large blocks a process frees for its next ones instead of
    giving them back to the system at once: scoring allocates and frees arrays of a few
    MB per batch, and with glibc's defaults each came back as fresh pages, every page a
    fault. Measured, 1,000,000 leads on 2 cores: 1.56 million page faults and 6.4 s of
    system time, against 0.22 million and 3.3 s; the processes' peaks grew by about 3 %.
    Elsewhere (no glibc: macOS, Windows, musl's no-op) nothing changes. True when glibc
    took both settings."""
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    reused = mallopt(M_MMAP_THRESHOLD, 32 << 20)  # blocks below 32 MB come from the heap
    kept = mallopt(M_TRIM_THRESHOLD, 128 << 20)  # the heap's free top is kept up to 128 MB
    return reused == 1 and kept == 1


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h


def spare_the_collector() -> None:
    """Move every object alive now (the imported libraries, the bundle) out of the cyclic
    garbage collector's reach: they live as long as the process, yet each full collection
    walked them all, and scoring a file allocates enough to run many. Objects made later
    are collected as before. Measured, 1,000,000 leads on 2 cores, three alternating pairs:
    about 0.5 core-second less in the main process and 1.5 in the workers."""
    import gc

    gc.collect()
    gc.freeze()


def lean_arrow_memory() -> str:
    """Arrow's buffers (the CSV reader's, the text columns') from jemalloc, which gives
    freed pages back, rather than pyarrow's default mimalloc, which keeps them. Measured,
    1,000,000 leads on 2 cores, the processes' peaks summed: 946 MB with mimalloc, 823 MB
    with jemalloc (839 MB with the system allocator), at the same speed. Where pyarrow
    was built without jemalloc (its Windows wheels), its default stays. The pool in use."""
    import pyarrow as pa

    with contextlib.suppress(NotImplementedError):
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    return pa.default_memory_pool().backend_name


def _hold_bundle(path: str, files: dict[str, bytes]) -> None:
    # one thread each (set before NumPy loads its BLAS): the workers are the parallelism,
    # and one BLAS thread is how every process scores (one_blas_thread)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    keep_freed_memory()
    lean_arrow_memory()
    from prospect_predictor.registry.bundle import bundle_from_files

    _HELD["bundle"] = bundle_from_files(Path(path), files)
    import pandas  # noqa: F401  (what every chunk needs, loaded before the collector is spared)

    spare_the_collector()


def held_bundle(bundle):
    """The bundle a worker was given (the main process's own without a pool)."""
    if "bundle" not in _HELD:
        return bundle
    faults.point("scoring_worker")  # tests kill a worker here
    return _HELD["bundle"]
