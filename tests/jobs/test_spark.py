"""`prospect score --engine spark` gives the local scorer's output row for row: Spark in
local mode (``local[2]``) on a few thousand generated leads split into several partitions
of several Arrow batches, bad rows included. Skipped without PySpark or Java."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="PySpark is the [spark] extra: pip install -e '.[spark]'")
if shutil.which("java") is None:
    pytest.skip("PySpark needs Java (17 or later) on PATH", allow_module_level=True)

from prospect_predictor.scoring.score import output_columns  # noqa: E402
from prospect_predictor.synthetic.generate import write_history  # noqa: E402

LEADS = 3_000
TEXT = [name for name, kind in output_columns() if kind != "number"]
NUMBERS = [name for name, kind in output_columns() if kind == "number"]


@pytest.fixture(scope="module")
def spark():
    from prospect_predictor.jobs.spark_score import spark_session

    session = spark_session(
        "local[2]",
        {
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
            # a ~470 KB file in four partitions, each of several Arrow batches
            "spark.sql.files.maxPartitionBytes": "131072",
            "spark.sql.execution.arrow.maxRecordsPerBatch": "300",
        },
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def leads(trained_folder):
    """Generated leads with rows the local scorer rejects or warns about, in several
    partitions: a word for a number, an id used in the first and the last partition, a
    required value missing, and a category never seen in training."""
    folder, _ = trained_folder
    clean = folder / "spark_clean.csv"
    write_history(LEADS, 33, clean, new_leads=True, overwrite=True)
    frame = pd.read_csv(clean, dtype=str, keep_default_na=False)
    frame.loc[10, "postponements"] = "three"
    frame.loc[LEADS - 5, "prospect_id"] = frame.loc[3, "prospect_id"]
    frame.loc[1500, "prospect_id"] = ""
    frame.loc[[20, 2200], "referral_source"] = "tv_advert"
    frame.to_csv(folder / "spark_leads.csv", index=False)
    frame.to_parquet(folder / "spark_leads.parquet", index=False)
    return folder


def _local_and_spark(run_cli, folder, monkeypatch, source: str, name: str):
    monkeypatch.chdir(folder)
    local = run_cli("score", source, "--out", f"{name}_local.parquet", "--overwrite")
    assert local.exit_code == 0, local.output
    remote = run_cli(
        "score", source, "--engine", "spark", "--out", f"{name}_spark.parquet", "--overwrite"
    )
    assert remote.exit_code == 0, remote.output
    return local, remote


def _same_rows(folder, name: str) -> pd.DataFrame:
    local = pd.read_parquet(folder / f"{name}_local.parquet")
    remote = pd.read_parquet(folder / f"{name}_spark.parquet")  # its parts in file order
    assert list(remote.columns) == list(local.columns)
    assert len(remote) == len(local)
    for column in TEXT:
        assert remote[column].tolist() == local[column].tolist(), column
    gap = np.abs(remote[NUMBERS].to_numpy(float) - local[NUMBERS].to_numpy(float))
    assert np.array_equal(np.isnan(gap), np.isnan(local[NUMBERS].to_numpy(float)))
    assert np.nanmax(gap) < 1e-9
    return remote


def test_spark_scores_a_csv_as_the_local_scorer_does(run_cli, spark, leads, monkeypatch):
    local, remote = _local_and_spark(run_cli, leads, monkeypatch, "spark_leads.csv", "csv")
    assert spark.sparkContext.master == "local[2]"
    assert "(local[2], 4 partition(s))" in remote.stderr
    scored = _same_rows(leads, "csv")
    assert len(scored) == LEADS - 4  # rows 11, 4 and 2,996 (one id twice), 1,501
    # the same rows rejected, with the file's row numbers and the same words, same bytes
    rejects = (leads / "csv_spark.rejects.csv").read_bytes()
    assert rejects == (leads / "csv_local.rejects.csv").read_bytes()
    assert pd.read_csv(leads / "csv_spark.rejects.csv")["row"].tolist() == [4, 11, 1501, 2996]
    said = [line for line in local.stderr.splitlines() if "row" in line or "never seen" in line]
    for line in said:  # rejects and unseen categories are said as locally
        assert line.replace("csv_local", "csv_spark") in remote.stderr


def test_spark_reads_parquet_leads(run_cli, spark, leads, monkeypatch):
    _local_and_spark(run_cli, leads, monkeypatch, "spark_leads.parquet", "pq")
    _same_rows(leads, "pq")
    spark_rejects = leads / "pq_spark.rejects.csv"
    assert spark_rejects.read_bytes() == (leads / "pq_local.rejects.csv").read_bytes()


def test_spark_output_is_replaced_only_with_overwrite(run_cli, spark, leads, monkeypatch):
    monkeypatch.chdir(leads)
    args = ("score", "spark_clean.csv", "--engine", "spark", "--out", "again.parquet")
    assert run_cli(*args).exit_code == 0
    refused = run_cli(*args)
    assert refused.exit_code != 0 and "--overwrite" in refused.stderr
    assert run_cli(*args, "--overwrite").exit_code == 0
    assert len(pd.read_parquet(leads / "again.parquet")) == LEADS
    assert not list(leads.glob(".again.parquet.*"))  # no temporary folder left


def test_spark_engine_refuses_what_it_cannot_do(run_cli, spark, leads, monkeypatch):
    monkeypatch.chdir(leads)
    to_csv = run_cli("score", "spark_clean.csv", "--engine", "spark", "--out", "x.csv")
    assert to_csv.exit_code != 0 and "Parquet" in to_csv.stderr
    one = run_cli("score", "--lead", '{"postponements": 1}', "--engine", "spark")
    assert one.exit_code != 0 and "FILE" in one.stderr


def test_spark_stops_on_a_file_problem_as_the_local_scorer(run_cli, spark, leads, monkeypatch):
    monkeypatch.chdir(leads)
    frame = pd.read_csv(leads / "spark_clean.csv", dtype=str, keep_default_na=False)
    frame.drop(columns="postponements").head(50).to_csv(leads / "no_column.csv", index=False)
    local = run_cli("score", "no_column.csv", "--out", "nc_local.parquet")
    remote = run_cli("score", "no_column.csv", "--engine", "spark", "--out", "nc_spark.parquet")
    assert local.exit_code == remote.exit_code != 0
    assert "postponements" in remote.stderr
    assert remote.stderr == local.stderr
    assert not (leads / "nc_spark.parquet").exists()
