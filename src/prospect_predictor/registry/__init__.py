"""Where models are kept: MLflow (``tracking``, the only module that imports mlflow: runs,
the model registry, the champion alias), the exported bundle ``models/<name>/``
(``bundle``: atomic export, verified load) and what a run records (``records``, with the
bundle's metadata contract).

May import: base, language, config, data, synthetic, monitoring, modeling, explaining,
scoring.
"""
