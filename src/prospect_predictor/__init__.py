"""prospect-predictor: how will a relationship with a prospect turn out, and why."""

__version__ = "0.1.0"
