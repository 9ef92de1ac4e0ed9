"""Where models are kept: MLflow (``tracking``: the store and runs; ``versions``: the model
registry and the champion alias; ``pyfunc_model``: the model MLflow loads — the only
modules that call mlflow), the store's health and lock (``store``), promotions and their
repair (``promotion``), the exported bundle ``models/<name>/`` (``bundle``: atomic export,
verified load, no pickle) and what a run records (``records``, with the bundle's metadata
contract).

May import: base, language, config, data, synthetic, monitoring, modeling, explaining,
scoring.
"""
