"""The generated history: a wealth-management firm's CRM export drawn from a documented
causal model (``data/README.md``), and its truth file, kept apart from the export.

May import: base, language, config, data.
"""
