"""The product's words: the four reasons, their advice, outcomes, recommendations and
interface strings (``words``), the built-in columns' phrases (``columns``), and looking
them up and formatting numbers for each language (``texts``), in English and French.
Standard library only: it is on every scoring path.

May import: base.
"""
