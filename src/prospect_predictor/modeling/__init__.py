"""Models and their training: the model families (scikit-learn Pipelines), calibration
(softmax of an affine map of the logits) and the training steps (guards, time holdout,
cross-validation, refit). The fitted model's class lives in :mod:`prospect_predictor.model`,
whose path bundles pickle; it belongs to this stage.

May import: base, language, config, data, synthetic, monitoring.
"""
