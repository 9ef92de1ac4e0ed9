"""Scoring leads: probabilities, the recommendation, the top reason with its drivers and
the advice (``score``), and writing the scores as CSV, JSON, Parquet or a table
(``writers``).

May import: base, language, config, data, synthetic, monitoring, modeling, explaining.
"""
