"""One module per command's orchestration: each calls the stages below in order and
handles their side effects (files, MLflow runs, the bundle), computing nothing of its own.

May import: base, language, config, data, synthetic, monitoring, modeling, explaining,
scoring, registry, reporting.
"""
