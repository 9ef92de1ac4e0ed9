"""The product's own words: the four reasons, their advice, outcomes, recommendations and
interface strings (``words``), and looking them up, formatting numbers and saying a feature
with the pipeline's phrases (``texts``), in English and French. A firm's column phrases
live in its pipeline, not here. Standard library only: it is on every scoring path.

May import: base.
"""
