"""The model MLflow registers: a pyfunc logged as *code* (MLflow's models-from-code) that
explains its scores, with the scoring form and the bundle's metadata as artifacts and the
package itself as code. Nothing in it is a pickle.

MLflow copies this file, the artifacts and the package (``code_paths``) into the model,
and runs this file when ``mlflow.pyfunc.load_model`` loads it: the model therefore loads
where MLflow and the declared requirements are installed, whether or not
prospect-predictor is. :meth:`ProspectsModel.predict` takes raw export rows as ``prospect
score`` reads them (text, booleans, numbers; columns it does not read are ignored; derived
features are computed inside) and returns the columns of ``prospect score --format csv``
in the pipeline's language. An invalid row is refused with an ``MlflowException`` naming
the row and the field (``mlflow models serve`` answers it with HTTP 400, no stack trace).
prospect-predictor itself reads registered versions without running this file
(``versions.download_version``).
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
    """Explained scores of raw export rows, from the scoring form."""

    def load_context(self, context) -> None:
        from prospect_predictor.explaining.scoring_form import ScoringForm

        paths = context.artifacts
        self.form = ScoringForm.from_bytes(
            Path(paths["scoring_json"]).read_bytes(), Path(paths["scoring_npz"]).read_bytes()
        )
        self.metadata = json.loads(Path(paths["metadata"]).read_text(encoding="utf-8"))

    def predict(self, context, model_input, params=None):
        import pandas as pd
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

        from prospect_predictor.errors import ProspectError
        from prospect_predictor.scoring.score import explain_rows

        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        try:
            return explain_rows(self.form, self.metadata, frame)
        except ProspectError as exc:
            raise MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE) from None


mlflow.models.set_model(ProspectsModel())
