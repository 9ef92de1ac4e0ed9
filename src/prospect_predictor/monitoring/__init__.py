"""Measuring models and data: every metric under its stable name, drift of new data from a
training profile, a model evaluated on labelled data, and the promotion gate. Training
measures itself with these, so this stage sits below modeling.

May import: base, language, config, data, synthetic.
"""
