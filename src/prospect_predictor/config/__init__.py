"""Configuration: TOML files read into strict pydantic models (unknown keys are errors),
the declared schema of a history (``schemas/``), the pipeline config checked against its
schema (``pipelines/``, the shipped default) and the declared derived features.

May import: base, language.
"""
