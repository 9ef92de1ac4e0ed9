"""Data in: reading CSV and Parquet files (whole or in chunks, atomic writes), validating
a frame against the schema, computing derived features, leads to score (a file streamed
chunk by chunk, or one JSON lead), the training data's profile, and drafting a pipeline
from an export (``prospect init-pipeline``).

May import: base, language, config.
"""
