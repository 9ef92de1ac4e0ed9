"""A big file is scored by worker processes (jobs/parallel.py): the files, messages and
rejects are those of one process, byte for byte, and a worker that dies leaves nothing."""

from __future__ import annotations

import gc
import os

import pandas as pd
import pytest

import prospect_predictor.data.leads as leads_module
import prospect_predictor.jobs.score as jobs
from prospect_predictor.faults import VARIABLE as FAULT
from prospect_predictor.jobs.parallel import WORKERS_VARIABLE, worker_count


@pytest.fixture
def in_trained(trained_folder, monkeypatch):
    folder, _ = trained_folder
    monkeypatch.chdir(folder)
    # several chunks and many batches, so that work is spread over both workers
    monkeypatch.setattr(leads_module, "CHUNK_ROWS", 64)
    monkeypatch.setattr(jobs, "WORKER_CHUNK_ROWS", 48)  # chunks differ: the bytes must not
    monkeypatch.setattr(jobs, "SCORING_CHUNK_ROWS", 7)
    return folder


def _score(run_cli, monkeypatch, workers: int, *args):
    monkeypatch.setenv(WORKERS_VARIABLE, str(workers))
    return run_cli("score", *args)


@pytest.mark.parametrize("suffix", ["csv", "json", "jsonl", "parquet"])
def test_two_workers_write_the_bytes_of_one_process(run_cli, in_trained, monkeypatch, suffix):
    spools = []

    def spool_folder(out):  # the workers' pieces of CSV and JSON lines go through files
        spools.append(made(out))
        return spools[-1]

    made = jobs.spool_folder
    monkeypatch.setattr(jobs, "spool_folder", spool_folder)
    one = _score(run_cli, monkeypatch, 1, "leads.csv", "--out", f"par1.{suffix}")
    assert not spools  # one process: nothing spooled
    two = _score(run_cli, monkeypatch, 2, "leads.csv", "--out", f"par2.{suffix}")
    assert one.exit_code == 0 and two.exit_code == 0, two.output
    assert len(spools) == (suffix in jobs.SPOOLED)
    assert all(s.parent == in_trained.resolve() and s.name.startswith(".par2.") for s in spools)
    assert not list(in_trained.glob(".*.parts"))  # removed, with every piece
    assert gc.get_freeze_count() == 0  # the objects spared while scoring are given back
    assert (in_trained / f"par2.{suffix}").read_bytes() == (
        in_trained / f"par1.{suffix}"
    ).read_bytes()
    assert two.stderr.replace("par2.", "par1.") == one.stderr
    if suffix == "parquet":
        assert len(pd.read_parquet(in_trained / f"par2.{suffix}")) == 400


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_two_workers_to_stdout_spool_in_the_temporary_folder(
    run_cli, in_trained, monkeypatch, tmp_path, suffix
):
    import tempfile

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    spools = []

    def spool_folder(out):
        spools.append(made(out))
        return spools[-1]

    made = jobs.spool_folder
    monkeypatch.setattr(jobs, "spool_folder", spool_folder)
    one = _score(run_cli, monkeypatch, 1, "leads.csv", "--format", suffix)
    two = _score(run_cli, monkeypatch, 2, "leads.csv", "--format", suffix)
    assert one.exit_code == 0 and two.exit_code == 0, two.output
    assert two.stdout == one.stdout and two.stderr == one.stderr
    assert len(two.stdout.splitlines()) == 400 + (suffix == "csv")
    # the workers' pieces go next to the scores' temporary file, never next to the input
    assert [s.parent for s in spools] == [spool.resolve()]
    assert list(spool.iterdir()) == [] and not list(in_trained.glob(".*.parts"))


def test_rejects_duplicates_and_messages_are_the_same_with_workers(
    run_cli, in_trained, monkeypatch
):
    frame = pd.read_csv(in_trained / "leads.csv", dtype=str, keep_default_na=False)
    frame.loc[300, "prospect_id"] = frame.loc[2, "prospect_id"]  # chunks 1 and 5
    frame.loc[150, "postponements"] = "lots"
    frame.loc[151, "referral_source"] = "tv_advert"  # unseen: scored as unknown, said once
    frame.to_csv(in_trained / "messy.csv", index=False)
    one = _score(run_cli, monkeypatch, 1, "messy.csv", "--out", "par_m1.csv")
    two = _score(run_cli, monkeypatch, 2, "messy.csv", "--out", "par_m2.csv")
    assert one.exit_code == two.exit_code == 0, two.output
    assert "3 row(s) rejected" in two.stderr and "tv_advert" in two.stderr
    assert two.stderr.replace("par_m2", "par_m1") == one.stderr
    for name in ("par_m{}.csv", "par_m{}.rejects.csv"):
        assert (in_trained / name.format(2)).read_bytes() == (
            in_trained / name.format(1)
        ).read_bytes()


def test_a_file_that_cannot_be_scored_says_so_as_in_one_process(run_cli, in_trained, monkeypatch):
    frame = pd.read_csv(in_trained / "leads.csv", dtype=str, keep_default_na=False)
    frame.drop(columns="postponements").to_csv(in_trained / "no_column.csv", index=False)
    frame.assign(postponements="lots").to_csv(in_trained / "all_bad.csv", index=False)
    for name in ("no_column.csv", "all_bad.csv"):
        one = _score(run_cli, monkeypatch, 1, name, "--out", "par_x1.csv")
        two = _score(run_cli, monkeypatch, 2, name, "--out", "par_x2.csv")
        assert one.exit_code == two.exit_code != 0
        assert two.stderr.replace("par_x2", "par_x1") == one.stderr
        assert not (in_trained / "par_x2.csv").exists()
    assert not list(in_trained.glob(".*.tmp*")) and not list(in_trained.glob(".*.parts"))


def test_a_worker_that_dies_leaves_the_previous_output_and_says_how_to_go_on(
    run_cli, in_trained, monkeypatch
):
    (in_trained / "par_kept.csv").write_text("the previous scores\n")
    monkeypatch.setenv(FAULT, "scoring_worker")  # a worker ends itself at its first batch
    result = _score(run_cli, monkeypatch, 2, "leads.csv", "--out", "par_kept.csv", "--overwrite")
    assert result.exit_code == 1
    assert "a worker process scoring the file stopped unexpectedly" in result.stderr
    assert f"{WORKERS_VARIABLE}=1" in result.stderr and "Traceback" not in result.output
    assert (in_trained / "par_kept.csv").read_text() == "the previous scores\n"
    assert not list(in_trained.glob(".*.tmp*")) and not list(in_trained.glob(".*.parts"))


def test_worker_count_follows_the_file_size_and_the_variable(tmp_path, monkeypatch):
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    small.write_text("a\n1\n")
    with big.open("wb") as handle:  # sparse: 20 MB without writing them
        handle.truncate(20_000_000)
    monkeypatch.delenv(WORKERS_VARIABLE, raising=False)
    assert worker_count(small) == 0
    cores = len(os.sched_getaffinity(0))
    assert worker_count(big) == (cores if cores > 1 else 0)  # one per core, none on one
    monkeypatch.setenv(WORKERS_VARIABLE, "1")
    assert worker_count(big) == 0
    monkeypatch.setenv(WORKERS_VARIABLE, "3")
    assert worker_count(small) == 3


def test_scoring_runs_on_one_blas_thread_in_every_process(run_cli, in_trained, monkeypatch):
    """BLAS splits a product between threads by rows, and the last bits of a row can
    follow the split (seen on a file's last, shorter batch): so the main process scores on
    one BLAS thread, as the workers do, and restores its setting after."""
    from threadpoolctl import threadpool_info

    seen = []
    real = jobs.score_batch

    def recording(*args, **kwargs):
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "score_batch", recording)
    before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    for args in (["--out", "par_blas.csv"], ["--format", "csv"]):
        assert _score(run_cli, monkeypatch, 1, "leads.csv", *args).exit_code == 0
    assert seen and set(seen) == {1}
    assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == before


def test_a_scoring_process_keeps_freed_memory_and_takes_arrow_buffers_from_jemalloc():
    """Run in a fresh process, as a worker starts: glibc takes both settings (on Linux
    with glibc), Arrow's default pool is jemalloc (where pyarrow has it), and the objects
    alive are spared the collector's walks."""
    import platform
    import subprocess
    import sys

    code = (
        "import gc, pyarrow as pa\n"
        "from prospect_predictor.jobs.parallel import *\n"
        "print(keep_freed_memory(), lean_arrow_memory(), pa.default_memory_pool().backend_name)\n"
        "before = gc.get_freeze_count(); spare_the_collector(); cycle = []; cycle.append(cycle)\n"
        "del cycle; print(before, gc.get_freeze_count(), gc.collect())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    took, pool, default, before, frozen, collected = done.stdout.split()
    # the libraries' objects are out of the collector's reach; a new cycle is still freed
    assert int(before) == 0 and int(frozen) > 10_000 and int(collected) >= 1
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert took == "True"
    import pyarrow as pa

    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        assert pool == default  # nothing to switch to: the default stays
    else:
        assert pool == default == "jemalloc"


def test_a_workers_chunk_comes_back_with_its_problems_but_not_its_typed_rows(in_trained):
    """What a worker sends back: the scored pieces and the validation's problems, not the
    typed frame (the rows were scored where they were validated)."""
    from prospect_predictor.data.leads import validate_chunk
    from prospect_predictor.data.tableio import iter_table
    from prospect_predictor.registry.bundle import load_bundle

    bundle = load_bundle(in_trained / "models" / "prospects")
    raw = next(iter_table(in_trained / "leads.csv", 60))
    raw.loc[3, "postponements"] = "lots"
    arguments = (raw, bundle.metadata, "leads.csv", 1, {}, None, None)
    scored, report = jobs.scored_chunk(*arguments, "en", "csv", bundle, float("inf"), None)
    _, full = validate_chunk(*arguments)
    assert report.frame is None and report.bad_rows is None and full.frame is not None
    assert report.problems == full.problems and report.errors  # the bad row is reported
    assert len(scored.rows) == 59 and len(scored.rejects) == 1
    assert sum(rows for _, rows in scored.pieces) == 59
