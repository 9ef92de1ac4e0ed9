"""The model MLflow registers: a pyfunc logged as *code* (MLflow's models-from-code), whose
artifacts are the scoring form and the bundle's metadata. Nothing in it is a pickle.

MLflow copies this file beside the artifacts when the model is logged and runs it when
``mlflow.pyfunc.load_model`` loads the model; :meth:`ProspectsModel.load_context` then reads
the form's JSON and NumPy arrays (``allow_pickle=False``). ``predict`` takes the bundle's
feature columns and returns one probability column per outcome. prospect-predictor itself
reads registered versions without running this file (``tracking.download_version``).
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
from mlflow.pyfunc import PythonModel

FORM_ARTIFACTS = {"scoring_json": "scoring.json", "scoring_npz": "scoring.npz"}
METADATA_ARTIFACT = ("metadata", "metadata.json")
PROFILE_ARTIFACT = ("profile", "profile.json")


class ProspectsModel(PythonModel):
    """Probabilities of each outcome from the scoring form."""

    def load_context(self, context) -> None:
        from prospect_predictor.explaining.scoring_form import ScoringForm

        paths = context.artifacts
        self.form = ScoringForm.from_bytes(
            Path(paths["scoring_json"]).read_bytes(), Path(paths["scoring_npz"]).read_bytes()
        )
        self.metadata = json.loads(Path(paths["metadata"]).read_text(encoding="utf-8"))

    def predict(self, context, model_input, params=None):
        import pandas as pd

        frame = pd.DataFrame(model_input)
        missing = [f for f in self.form.feature_names if f not in frame.columns]
        for name in missing:
            frame[name] = None
        types = self.metadata.get("feature_types", {})
        for name in self.form.feature_names:
            if types.get(name) in ("int", "float", "bool"):
                frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
            else:
                frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
        proba = self.form.predict_proba(frame[self.form.feature_names])
        return pd.DataFrame(proba, columns=self.form.classes, index=frame.index)


mlflow.models.set_model(ProspectsModel())
