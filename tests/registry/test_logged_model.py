"""The registered MLflow model is the product: it takes raw export rows and answers with
the explained scores of `prospect score`, loads where prospect-predictor is not installed,
never unpickles, and serves them over REST with `mlflow models serve`."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SOURCE = Path(__file__).parents[2] / "src"


def store_uri(folder: Path) -> str:
    return f"sqlite:///{(folder / 'experiments' / 'mlflow.db').as_posix()}"


@pytest.fixture(scope="module")
def logged(trained_folder):
    """The champion as MLflow loads it, from the trained folder's registry."""
    import mlflow

    folder, _ = trained_folder
    mlflow.set_tracking_uri(store_uri(folder))
    mlflow.set_registry_uri(store_uri(folder))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)  # artifact locations are relative to the work folder
        return folder, mlflow.pyfunc.load_model("models:/prospects@champion")


def raw_rows(folder: Path, rows: int = 50) -> pd.DataFrame:
    """Leads as pandas reads the export: integers, booleans, text, blanks."""
    return pd.read_csv(folder / "leads.csv").head(rows)


def test_the_logged_model_explains_raw_rows_like_the_cli(logged, run_cli, monkeypatch):
    folder, model = logged
    got = model.predict(raw_rows(folder))
    monkeypatch.chdir(folder)
    cli = run_cli("score", "leads.csv", "--format", "csv")
    assert cli.exit_code == 0, cli.output
    expected = pd.read_csv(io.StringIO(cli.stdout), keep_default_na=False).head(50)
    assert list(got.columns) == list(expected.columns)
    for column in expected.columns:
        if pd.api.types.is_float_dtype(got[column]):
            a = got[column].to_numpy(float)
            b = pd.to_numeric(expected[column], errors="coerce").to_numpy(float)
            assert np.allclose(a, b, rtol=0, atol=1e-9, equal_nan=True), column
        else:
            assert [str(v) for v in got[column]] == [str(v) for v in expected[column]], column
    assert set(got["recommendation"]) <= {"pursue", "qualify", "walk_away"}
    assert (got["advice"].str.len() > 0).all()


def test_its_signature_names_the_raw_columns_and_the_output_columns(logged):
    _, model = logged
    inputs = model.metadata.get_input_schema().input_names()
    outputs = model.metadata.get_output_schema().input_names()
    assert "postponements" in inputs and "proposed_product" in inputs
    assert "product_serves_need" not in inputs  # derived: computed inside
    assert "age_years" not in inputs  # protected: never read
    assert outputs[:5] == ["prospect_id", "p_win_win", "p_win_lose", "p_stalled", "p_declined"]
    assert {"recommendation", "top_reason", "advice", "top_drivers"} <= set(outputs)


def test_a_wrong_value_names_the_field_and_row(logged):
    from mlflow.exceptions import MlflowException

    folder, model = logged
    bad = raw_rows(folder, 3).astype({"postponements": object})
    bad.loc[1, "postponements"] = "lots"
    with pytest.raises(MlflowException, match=r"postponements.*'lots'.*row 2"):
        model.predict(bad)


def test_it_loads_where_the_package_is_not_installed(trained_folder, tmp_path):
    """A fresh interpreter whose path does not hold the source tree: the model brings the
    package as code; nothing is unpickled on the way."""
    folder, _ = trained_folder
    code = f"""
import importlib.util, pickle, sys
sys.path = [p for p in sys.path if p.rstrip('/') != {str(SOURCE)!r}]
assert importlib.util.find_spec('prospect_predictor') is None, 'the source tree is on the path'
def refuse(*a, **k):
    raise AssertionError('unpickled')
pickle.load = pickle.loads = refuse
import mlflow, pandas as pd
mlflow.set_tracking_uri({store_uri(folder)!r})
mlflow.set_registry_uri({store_uri(folder)!r})
model = mlflow.pyfunc.load_model('models:/prospects@champion')
out = model.predict(pd.read_csv({str(folder / "leads.csv")!r}).head(2))
import prospect_predictor
print(prospect_predictor.__file__)
print(out[['prospect_id', 'recommendation']].to_json(orient='records'))
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=folder,  # artifact locations are relative to the work folder
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MLFLOW_TRACKING_URI")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    where, answer = done.stdout.strip().splitlines()[-2:]
    assert not where.startswith(str(SOURCE)), where  # the model's own copy of the code
    assert len(json.loads(answer)) == 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(port: int, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.slow
def test_mlflow_models_serve_answers_with_explained_scores(trained_folder):
    folder, _ = trained_folder
    port = free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": store_uri(folder)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            "models:/prospects@champion",
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],  # fmt: skip
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=5):
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-3000:]
                assert time.monotonic() < deadline, "the server did not start in 180 s"
                time.sleep(1)
        lead = raw_rows(folder, 1)
        split = json.loads(lead.to_json(orient="split", index=False))
        status, answer = post(port, {"dataframe_split": split})
        assert status == 200, answer
        (scored,) = answer["predictions"]
        assert scored["prospect_id"] == lead["prospect_id"].iloc[0]
        assert scored["recommendation"] in ("pursue", "qualify", "walk_away")
        assert scored["advice"] and scored["top_drivers"] is not None

        records = json.loads(lead.to_json(orient="records"))
        records[0]["favourite_colour"] = "blue"  # a field the model does not know
        status, answer = post(port, {"dataframe_records": records})
        assert status == 200, answer
        assert answer["predictions"][0]["p_win_win"] == pytest.approx(scored["p_win_win"])

        records[0]["postponements"] = "lots"
        status, answer = post(port, {"dataframe_records": records})
        assert 400 <= status < 500, answer
        assert "postponements" in answer["message"] and "'lots'" in answer["message"]
        assert "Traceback" not in json.dumps(answer)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_fields_left_out_are_unknown_and_listed(logged):
    _, model = logged
    answer = model.predict(pd.DataFrame([{"postponements": 4, "decision_maker_present": False}]))
    assert answer["prospect_id"].tolist() == ["1"]  # no id column: rows are numbered
    listed = answer["unknown_fields"].iloc[0].split(", ")
    assert "investable_assets_eur" in listed and "postponements" not in listed
    assert answer["recommendation"].iloc[0] in ("pursue", "qualify", "walk_away")
