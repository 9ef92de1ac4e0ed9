"""Exact explanations: TreeSHAP of depth-2 trees as lookup tables (``fastshap``), SHAP
values per feature and per reason in log-odds against win_win (``contributions``), and
the model's scoring form, plain arrays that score and explain without scikit-learn
(``scoring_form``; compiled at export by ``compile_form``).

May import: base, language, config, data, synthetic, monitoring, modeling.
"""
