"""The messy French CRM export to practise on: same prospects, written as a French CRM
writes them; drafted, finished and trained, it reaches the clean export's log loss."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prospect_predictor.synthetic.crm_export import FRENCH_OUTCOMES, OPEN_LABEL
from prospect_predictor.synthetic.generate import write_history
from tests.conftest import DEFAULT_PIPELINE


def test_the_french_export_holds_the_same_prospects_written_the_french_way(tmp_path):
    write_history(2_000, 5, tmp_path / "clean.csv")
    write_history(2_000, 5, tmp_path / "crm.csv", french_crm=True)
    text = (tmp_path / "crm.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0].count(";") > 20 and "," not in text.splitlines()[0]
    clean = pd.read_csv(tmp_path / "clean.csv", dtype=str, keep_default_na=False)
    crm = pd.read_csv(tmp_path / "crm.csv", sep=";", dtype=str, keep_default_na=False)
    assert (crm["prospect_id"] == clean["prospect_id"]).all()
    assert crm["investable_assets_eur"].str.fullmatch(r"(\d{1,3}( \d{3})* €)?").all()
    assert crm["expected_return_pct"].str.fullmatch(r"(-?\d+,\d %)?").all()
    assert crm["first_contact_date"].str.fullmatch(r"\d{2}/\d{2}/\d{4}").all()
    assert set(crm["decision_maker_present"]) <= {"oui", "non", ""}
    decided = crm["outcome"] != OPEN_LABEL
    assert 0 < (~decided).sum() < 0.05 * len(crm)
    assert (crm.loc[decided, "outcome"] == clean.loc[decided, "outcome"].map(FRENCH_OUTCOMES)).all()
    assert (crm["referral_source"] == "Sélectionner").any()
    assert (crm["referral_source"].str.strip().str.lower() != crm["referral_source"]).any()
    write_history(2_000, 5, tmp_path / "again.csv", french_crm=True)
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "crm.csv").read_bytes()


def _finish(draft: Path, out: Path) -> Path:
    """What the analyst does with the draft (docs/bring-your-own-data.md): each TODO
    feature gets the reason of the default pipeline, and the firm's derived features."""
    default_text = DEFAULT_PIPELINE.read_text()
    reasons = tomllib.loads(default_text)["features"]
    text = draft.read_text()
    start = text.index("[features]")
    end = text.index("\n[", start + 1)
    block = re.sub(
        r'^([A-Za-z_]+) = "TODO"',
        lambda m: f'{m.group(1)} = "{reasons.get(m.group(1), "context")}"',
        text[start:end],
        flags=re.M,
    )
    block += '\nproduct_serves_need = "product_mismatch"\nneed_outside_specialties = "poor_fit"\n'
    derived = default_text[default_text.index("[derived.") : default_text.index("[validation]")]
    out.write_text(text[:start] + block + "\n" + derived + text[end:])
    return out


@pytest.mark.slow
def test_trained_on_the_messy_export_it_reaches_the_clean_exports_log_loss(
    run_cli, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    write_history(20_000, 7, tmp_path / "clean.csv")
    write_history(20_000, 7, tmp_path / "crm.csv", french_crm=True)
    assert run_cli("init-pipeline", "--data", "crm.csv", "--out", "draft.toml").exit_code == 0
    finished = _finish(tmp_path / "draft.toml", tmp_path / "crm.toml")
    from prospect_predictor.config.pipeline import load_pipeline
    from prospect_predictor.modeling.train import load_history, train

    crm_pipeline = load_pipeline(finished)
    crm_history = load_history(crm_pipeline, tmp_path / "crm.csv")
    assert crm_history.open_rows > 0 and len(crm_history.rejects) > 0
    messy = train(crm_pipeline, crm_history).holdout.metrics["log_loss"]
    clean_pipeline = load_pipeline(DEFAULT_PIPELINE)
    clean = train(clean_pipeline, load_history(clean_pipeline, tmp_path / "clean.csv"))
    assert messy <= 1.02 * clean.holdout.metrics["log_loss"], (messy, clean.holdout.metrics)
    assert np.isfinite(messy)
