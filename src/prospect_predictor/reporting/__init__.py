"""What people look at besides the scores: PNG charts (``charts``), the files an analyst
reviews beside a run in MLflow (``artifacts``) and ``prospect explain``'s view of one
prospect (``explain_view``).

May import: base, language, config, data, synthetic, monitoring, modeling, explaining,
scoring, registry.
"""
