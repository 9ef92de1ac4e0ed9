"""The product's words: the four reasons, their advice, outcomes, recommendations,
interface strings and plain-word feature phrases, in English and French; numbers
formatted for each language. Standard library only: it is on every scoring path.

May import: base.
"""
