"""`prospect score FILE --out OUT` streams: a file spanning several chunks gives the same
files as one read whole, checks still hold across chunks, and a failure leaves no trace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import prospect_predictor.data.leads as leads_module
import prospect_predictor.jobs.score as jobs
from prospect_predictor.monitoring.drift import RowSample, compact_text, row_keys, text_objects

CHUNK = 8  # rows per chunk in these tests: a 30-row file spans four chunks


@pytest.fixture
def in_trained(trained_folder, monkeypatch):
    folder, _ = trained_folder
    monkeypatch.chdir(folder)
    return folder


def _leads(folder, rows: int = 30) -> pd.DataFrame:
    return pd.read_csv(folder / "leads.csv", dtype=str, keep_default_na=False).head(rows)


def _chunked(monkeypatch, rows: int = CHUNK) -> None:
    monkeypatch.setattr(leads_module, "CHUNK_ROWS", rows)
    monkeypatch.setattr(jobs, "SCORING_CHUNK_ROWS", 3)  # several batches per chunk too


def _no_temp_files(folder) -> bool:
    return not list(folder.glob(".*.tmp"))


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_chunked_output_is_byte_identical_to_whole(run_cli, in_trained, monkeypatch, suffix):
    # A lead's output depends on that lead alone, to the last bit: the whole file in the
    # default batches and 64-row chunks scored 3 rows at a time give the same bytes.
    from prospect_predictor.scoring.writers import write_scores

    whole = run_cli("score", "leads.csv", "--out", f"whole.{suffix}")
    assert whole.exit_code == 0, whole.output
    # the in-memory path (the terminal's table, explain, the demo) writes the same bytes
    report = jobs.run_scoring(None, "leads.csv")
    in_memory = write_scores(report.frame, suffix, None, report.records, False)
    _chunked(monkeypatch, 64)  # 400 leads: seven chunks, the last one short
    chunked = run_cli("score", "leads.csv", "--out", f"chunked.{suffix}")
    assert chunked.exit_code == 0, chunked.output
    assert "400 prospect(s) scored" in chunked.stderr
    stdout = run_cli("score", "leads.csv", "--format", suffix)  # streamed too, chunked
    expected = (in_trained / f"whole.{suffix}").read_bytes()
    assert (in_trained / f"chunked.{suffix}").read_bytes() == expected
    assert in_memory.encode() == expected
    assert stdout.stdout.encode() == expected
    assert _no_temp_files(in_trained)


@pytest.mark.parametrize("suffix", ["csv", "json", "jsonl"])
def test_a_file_to_stdout_streams_through_a_temporary_file_it_removes(
    run_cli, in_trained, monkeypatch, tmp_path, suffix
):
    # stdout gets the bytes the file gets, once every row is scored, in bounded memory:
    # through a temporary file in TMPDIR, removed whether scoring ends well or not
    import tempfile

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    frame = _leads(in_trained)
    frame.loc[4, "no_shows"] = "-2"  # a reject: its file goes next to the input
    frame.to_csv(in_trained / "some.csv", index=False)
    _chunked(monkeypatch)
    to_file = run_cli("score", "some.csv", "--out", f"some_scored.{suffix}")
    assert to_file.exit_code == 0, to_file.output
    rejects_beside_output = (in_trained / "some_scored.rejects.csv").read_bytes()

    def whole_file_in_memory(*args, **kwargs):
        raise AssertionError("a file to stdout was held in memory")

    monkeypatch.setattr(jobs, "run_scoring", whole_file_in_memory)
    to_stdout = run_cli("score", "some.csv", "--format", suffix)
    assert to_stdout.exit_code == 0, to_stdout.output
    assert to_stdout.stdout.encode() == (in_trained / f"some_scored.{suffix}").read_bytes()
    assert (in_trained / "some.rejects.csv").read_bytes() == rejects_beside_output
    assert "1 row(s) rejected, written to some.rejects.csv" in to_stdout.stderr
    assert "row 5: no_shows" in to_stdout.stderr
    assert "scored, written to" not in to_stdout.stderr  # stdout holds the data alone
    assert list(spool.iterdir()) == []
    # a failure in a later chunk: nothing on stdout, no file left behind
    lines = (in_trained / "some.csv").read_bytes().split(b"\n")
    lines[20] = lines[20].replace(b"L", b"\xe9", 1)
    (in_trained / "latin1.csv").write_bytes(b"\n".join(lines))
    failed = run_cli("score", "latin1.csv", "--format", suffix)
    assert failed.exit_code == 1 and "in row 20)" in failed.stderr
    assert failed.stdout == ""
    assert list(spool.iterdir()) == [] and not (in_trained / "latin1.rejects.csv").exists()


def test_chunked_parquet_has_the_same_rows_and_types(run_cli, in_trained, monkeypatch):
    assert run_cli("score", "leads.csv", "--out", "whole.parquet").exit_code == 0
    monkeypatch.setattr(leads_module, "CHUNK_ROWS", 64)  # batches of 5,000 rows as above
    assert run_cli("score", "leads.csv", "--out", "chunked.parquet").exit_code == 0
    whole = pd.read_parquet(in_trained / "whole.parquet")
    chunked = pd.read_parquet(in_trained / "chunked.parquet")
    pd.testing.assert_frame_equal(chunked, whole, check_exact=True)


def test_duplicate_id_in_two_chunks_rejects_both_rows(run_cli, in_trained, monkeypatch):
    frame = _leads(in_trained)
    frame.loc[24, "prospect_id"] = frame.loc[2, "prospect_id"]  # rows 3 and 25: chunks 1, 4
    frame.to_csv(in_trained / "dup.csv", index=False)
    whole = run_cli("score", "dup.csv", "--out", "dup_whole.csv")
    whole_rejects = (in_trained / "dup_whole.rejects.csv").read_bytes()
    _chunked(monkeypatch)
    result = run_cli("score", "dup.csv", "--out", "dup_out.csv")
    assert result.exit_code == 0, result.output
    assert "2 row(s) rejected" in result.stderr
    assert "row 3: prospect_id: duplicated id" in result.stderr
    assert "row 25: prospect_id: duplicated id" in result.stderr
    rejects = pd.read_csv(in_trained / "dup_out.rejects.csv", dtype=str)
    assert rejects["row"].tolist() == ["3", "25"]
    assert (in_trained / "dup_out.rejects.csv").read_bytes() == whole_rejects
    assert len(pd.read_csv(in_trained / "dup_out.csv")) == 28
    assert result.stderr.replace("dup_out", "dup_whole") == whole.stderr


def test_bad_row_in_a_later_chunk_keeps_its_row_number(run_cli, in_trained, monkeypatch):
    frame = _leads(in_trained)
    frame.loc[21, "postponements"] = "three"  # row 22: the third chunk
    frame.loc[29, "no_shows"] = "-3"  # row 30: the last one
    frame.loc[[3, 25], "referral_source"] = "tv_advert"  # unseen, in two chunks: one line
    frame.to_csv(in_trained / "late_bad.csv", index=False)
    _chunked(monkeypatch)
    result = run_cli("score", "late_bad.csv", "--out", "late.csv")
    assert result.exit_code == 0, result.output
    assert "row 22: postponements: wrong type (found 'three')" in result.stderr
    assert "row 30: no_shows: out of range" in result.stderr
    assert result.stderr.count("never seen in training") == 1
    assert "referral_source: 1 value(s) never seen in training, in 2 lead(s)" in result.stderr
    rejects = pd.read_csv(in_trained / "late.rejects.csv", dtype=str)
    assert rejects["row"].tolist() == ["22", "30"]
    assert rejects.loc[0, "postponements"] == "three"
    scored = pd.read_csv(in_trained / "late.csv", dtype=str)
    assert scored["prospect_id"].tolist() == frame["prospect_id"].drop([21, 29]).tolist()


def test_crash_mid_file_leaves_the_previous_output_untouched(run_cli, in_trained, monkeypatch):
    (in_trained / "kept.csv").write_text("the previous scores\n")
    (in_trained / "kept.rejects.csv").write_text("the previous rejects\n")
    frame = _leads(in_trained)
    frame.loc[1, "postponements"] = "three"  # a reject in the first chunk, before the crash
    frame.to_csv(in_trained / "crash.csv", index=False)
    _chunked(monkeypatch)
    calls = []
    real = jobs.score_batch

    def crash_on_the_fifth_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:  # the second chunk: the first is already written
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "score_batch", crash_on_the_fifth_batch)
    result = run_cli("score", "crash.csv", "--out", "kept.csv", "--overwrite")
    assert result.exit_code == 3
    assert "disk on fire" in result.stderr
    assert (in_trained / "kept.csv").read_text() == "the previous scores\n"
    assert (in_trained / "kept.rejects.csv").read_text() == "the previous rejects\n"
    assert _no_temp_files(in_trained)


def test_not_utf8_in_a_later_chunk_names_file_and_row(run_cli, in_trained, monkeypatch):
    (in_trained / "enc.csv").write_text("the previous scores\n")
    data = _leads(in_trained).to_csv(index=False).encode()
    lines = data.split(b"\n")
    lines[20] = lines[20].replace(b"L", b"\xe9", 1)  # row 20
    (in_trained / "latin1.csv").write_bytes(b"\n".join(lines))
    _chunked(monkeypatch)
    result = run_cli("score", "latin1.csv", "--out", "enc.csv", "--overwrite")
    assert result.exit_code == 1
    assert "latin1.csv: not UTF-8 text (byte 0xe9" in result.stderr
    assert "in row 20)" in result.stderr
    assert (in_trained / "enc.csv").read_text() == "the previous scores\n"
    assert _no_temp_files(in_trained)


def test_file_level_problems_are_still_caught_when_chunked(run_cli, in_trained, monkeypatch):
    frame = _leads(in_trained)
    frame.head(0).to_csv(in_trained / "header_only.csv", index=False)
    frame.drop(columns="postponements").to_csv(in_trained / "no_column.csv", index=False)
    all_bad = frame.assign(no_shows="-1")
    all_bad.loc[[4, 17], "referral_source"] = "tv_advert"
    all_bad.to_csv(in_trained / "all_bad.csv", index=False)
    whole = run_cli("score", "all_bad.csv", "--out", "all_bad_out.csv")
    _chunked(monkeypatch)
    header = run_cli("score", "header_only.csv", "--out", "h.csv")
    assert header.exit_code == 1 and "has a header but no rows" in header.stderr
    missing = run_cli("score", "no_column.csv", "--out", "m.csv")
    assert missing.exit_code == 1 and "column 'postponements' is missing" in missing.stderr
    chunked = run_cli("score", "all_bad.csv", "--out", "all_bad_out.csv")
    assert chunked.exit_code == 1
    assert "no row can be scored" in chunked.stderr
    assert "in 30 rows (rows 1, 2, 3, 4, 5 and 25 more)" in chunked.stderr
    assert "'tv_advert' in 2 rows (rows 5, 18)" in chunked.stderr
    assert chunked.stderr == whole.stderr  # the problems of all chunks, worded as for one
    for name in ("h.csv", "m.csv", "all_bad_out.csv", "all_bad_out.rejects.csv"):
        assert not (in_trained / name).exists()
    assert _no_temp_files(in_trained)


def test_stream_knows_the_row_count_before_the_end(in_trained, monkeypatch):
    from prospect_predictor.registry.bundle import load_bundle

    metadata = load_bundle(in_trained / "models" / "prospects").metadata
    stream = leads_module.LeadStream(in_trained / "leads.csv", metadata, chunk_rows=100)
    seen = [(len(chunk.frame), chunk.rows[0], chunk.rows_read, stream.total) for chunk in stream]
    assert seen == [(100, 1, 100, 400), (100, 101, 200, 400), (100, 201, 300, 400)] + [
        (100, 301, 400, 400)
    ]


def _added(sample: RowSample, frame: pd.DataFrame) -> None:
    sample.add(frame, row_keys(frame["x"].to_numpy() + 1))  # x is the row's number less 1


def test_row_sample_is_all_rows_when_small_and_a_bounded_ordered_sample_otherwise():
    frames = [pd.DataFrame({"x": np.arange(start, start + 10)}) for start in range(0, 50, 10)]
    small = RowSample(100)
    for frame in frames:
        _added(small, frame)
    assert small.frame["x"].tolist() == list(range(50))
    bounded, again = RowSample(12), RowSample(12)
    for frame in frames:
        _added(bounded, frame)
        _added(again, frame)
    values = bounded.frame["x"].tolist()
    assert len(values) == 12 and values == sorted(values) and len(set(values)) == 12
    assert values == again.frame["x"].tolist()  # the same file, the same sample
    assert values[-1] >= 20  # later chunks are sampled too, not only the first rows


@pytest.mark.parametrize("sizes", [[5_000], [7, 993, 1, 2_000, 1_999], [300] * 17])
def test_row_sample_keeps_the_smallest_keys_whatever_the_frame_sizes(sizes):
    """The sample is the rows with the 500 smallest keys of their row numbers, in the
    order they came, however the rows are split into frames, and whether or not the rows
    that could not make it were left out before (as workers leave them out)."""
    total = sum(sizes)
    rows = pd.DataFrame({"x": np.arange(total)}, index=np.arange(total) + 10)
    keys = row_keys(np.arange(total) + 1)
    expected = rows.iloc[np.sort(np.argpartition(keys, 499)[:500])]
    sample, filtered, start = RowSample(500), RowSample(500), 0
    for size in sizes:
        _added(sample, rows.iloc[start : start + size])
        part, part_keys = rows.iloc[start : start + size], keys[start : start + size]
        can = part_keys < filtered.limit
        filtered.add(part[can], part_keys[can])
        start += size
    pd.testing.assert_frame_equal(sample.frame, expected)
    pd.testing.assert_frame_equal(filtered.frame, expected)


def test_row_keys_are_uniform_and_depend_on_the_row_alone():
    keys = row_keys(np.arange(1, 200_001))
    assert ((keys >= 0) & (keys < 1)).all() and len(np.unique(keys)) == len(keys)
    assert abs(keys.mean() - 0.5) < 0.005  # uniform: mean 1/2, sd of the mean ~0.0006
    assert np.histogram(keys, bins=10, range=(0, 1))[0].min() > 19_000  # ~20,000 each
    assert np.array_equal(row_keys(np.arange(1000, 1010)), keys[999:1009])
    assert not np.array_equal(row_keys(np.arange(1, 11), seed=1), keys[:10])


def test_parquet_input_streams_by_record_batches(run_cli, in_trained, monkeypatch):
    frame = pd.read_csv(in_trained / "leads.csv", dtype=str, keep_default_na=False)
    assert run_cli("score", "leads.csv", "--out", "from_csv.csv").exit_code == 0
    pd.read_csv(in_trained / "leads.csv").to_parquet(in_trained / "leads.parquet", index=False)
    frame.loc[[9, 130], "prospect_id"] = "TWICE"  # a duplicate in two record batches
    frame.to_csv(in_trained / "twice.csv", index=False)
    pd.read_csv(in_trained / "twice.csv").to_parquet(in_trained / "twice.parquet", index=False)
    monkeypatch.setattr(leads_module, "CHUNK_ROWS", 64)
    result = run_cli("score", "leads.parquet", "--out", "from_parquet.csv")
    assert result.exit_code == 0, result.output
    assert (in_trained / "from_parquet.csv").read_bytes() == (
        in_trained / "from_csv.csv"
    ).read_bytes()
    twice = run_cli("score", "twice.parquet", "--out", "twice_out.csv")
    assert twice.exit_code == 0, twice.output
    rejects = pd.read_csv(in_trained / "twice_out.rejects.csv", dtype=str)
    assert rejects["row"].tolist() == ["10", "131"]


def test_progress_counts_rows_read_up_to_the_total(in_trained, monkeypatch):
    _chunked(monkeypatch, 64)
    calls = []
    report = jobs.run_file_scoring(
        in_trained / "models" / "prospects",
        in_trained / "leads.csv",
        in_trained / "progress.csv",
        "csv",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert report.scored == 400 and report.status == "written"
    done = [d for d, _ in calls]
    assert done == sorted(done) and calls[-1] == (400, 400)
    assert {total for _, total in calls} == {400}  # known before the end: the id pass


def test_the_sample_sent_as_arrow_text_is_the_sample_of_python_objects():
    """Workers send the sample's text as Arrow text (``drift.compact_text``): the sample
    read back holds the same values, ``str`` or None, as one given Python objects."""
    rng = np.random.default_rng(4)
    texts = np.array(["a", "", "é ü", "tv_advert", "x" * 300, "日本", None], dtype=object)
    index = np.arange(3_000) + 1  # text as validated: str or None, Python objects
    frame = pd.DataFrame(
        {
            "x": np.arange(3_000),
            "category": pd.Series(rng.choice(texts, 3_000), index=index, dtype=object),
            "amount": np.where(rng.random(3_000) < 0.2, np.nan, rng.random(3_000)),
            "flag": pd.array(rng.choice([True, False, None], 3_000), dtype="boolean"),
            "mixed": pd.Series([1, "a", None] * 1_000, index=index, dtype=object),  # kept
        },
        index=index,
    )
    assert frame["category"].isna().sum() == (frame["category"].to_numpy() == None).sum()  # noqa: E711
    compact = compact_text(frame)
    assert str(compact["category"].dtype) == "string" and compact["mixed"].dtype == object
    as_objects, as_arrow = RowSample(700), RowSample(700)
    for start in range(0, 3_000, 250):
        _added(as_objects, frame.iloc[start : start + 250])
        _added(as_arrow, compact_text(frame.iloc[start : start + 250]))
    pd.testing.assert_frame_equal(as_arrow.frame, as_objects.frame, check_exact=True)
    values = as_arrow.frame["category"].tolist()
    assert None in values and all(v is None or type(v) is str for v in values)
    assert text_objects(frame) is frame  # nothing to undo


def test_explain_finds_its_prospect_a_chunk_at_a_time(run_cli, in_trained, monkeypatch):
    # `prospect explain ID --input FILE` keeps only the prospect's rows, whatever the
    # file's size, with what the whole file would tell: its row, its problems, its ids
    from prospect_predictor.data.leads import one_prospect, read_leads
    from prospect_predictor.errors import ProspectError
    from prospect_predictor.registry.bundle import default_bundle, load_bundle

    metadata = load_bundle(default_bundle()).metadata
    frame = _leads(in_trained)
    frame.loc[20, "no_shows"] = "-1"  # row 21: rejected
    frame.to_csv(in_trained / "some.csv", index=False)
    whole = read_leads("some.csv", metadata)
    _chunked(monkeypatch)  # 30 rows: four chunks
    wanted = frame.loc[25, "prospect_id"]  # row 26, in the fourth chunk
    one = one_prospect("some.csv", metadata, wanted)
    expected = whole.frame[(whole.frame["prospect_id"] == wanted).to_numpy()]
    pd.testing.assert_frame_equal(one.frame, expected, check_exact=True)
    assert one.rows.tolist() == [26]
    assert one.report.lines() == whole.report.lines()  # the whole file's problems
    rejected = frame.loc[20, "prospect_id"]
    with pytest.raises(ProspectError, match=rf"'{rejected}' \(row 21\) cannot be scored: no_shows"):
        one_prospect("some.csv", metadata, rejected)
    first = ", ".join(frame["prospect_id"].head(3))
    with pytest.raises(ProspectError, match=rf"among 29 rows \(ids look like: {first}\)"):
        one_prospect("some.csv", metadata, "NOPE")
    nameless = {**metadata, "id_column": None}
    by_row = one_prospect("some.csv", nameless, "26")
    assert by_row.rows.tolist() == [26] and by_row.frame.equals(one.frame)
    with pytest.raises(ProspectError, match=r"no scorable row 31 \(rows 1 to 30;"):
        one_prospect("some.csv", nameless, "31")

    def whole_file_in_memory(*args, **kwargs):
        raise AssertionError("explain held the whole file in memory")

    monkeypatch.setattr(leads_module, "read_leads", whole_file_in_memory)
    explained = run_cli("explain", wanted, "--input", "some.csv")
    assert explained.exit_code == 0, explained.output
    assert f"prospect {wanted}" in explained.stdout
