"""Exact explanations: TreeSHAP of depth-2 trees as lookup tables (``fastshap``), SHAP
values per feature and per reason in log-odds against win_win (``contributions``), and
the model's scoring form, plain arrays that score and explain without scikit-learn, one
kind per model family (``scoring_form`` reads every kind; ``form_base`` the shared parts,
``tree_forms`` the HGB kinds, ``linear_form`` the logistic one; compiled at export by
``compile_form``).

May import: base, language, config, data, synthetic, monitoring, modeling.
"""
