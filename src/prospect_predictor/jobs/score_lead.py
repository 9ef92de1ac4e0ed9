"""`prospect score --lead JSON` to the terminal or stdout without pandas: the lead read and
validated value by value (:mod:`prospect_predictor.data.one_lead`), its derived features,
scored by the bundle's form from a mapping of column -> values (:func:`score.score`) and
its output row built as :func:`score.to_frame` builds it (:mod:`scoring.one_lead`).

Importing pandas alone takes about as long as the rest of a one-lead command, so this path
never imports it: the same words, numbers and messages as :func:`jobs.score.run_scoring`
(``tests/scoring/test_one_lead.py`` compares both on generated leads, every format). A
value whose validation the pandas-free checks cannot vouch for
(:class:`~prospect_predictor.data.one_lead.NeedsFrame`) is scored by that path instead."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class OneLeadReport:
    row: dict  # score.to_frame's columns for the lead
    record: dict  # its JSON record (scoring/rows.record)
    metadata: dict
    lang: str
    drift_warnings: list[str]  # the categories never seen in training, scored as unknown
    unknown_fields: list[str]
    lead: tuple[str, str]  # the JSON text read and its name (run_scoring's lead_read)
    scores: object  # score.Scores of the lead (for prospect explain)
    notices: list[str] = field(default_factory=list)


def run_one_lead(
    model_dir: str | Path | None, lead_json: str, lang: str | None = None
) -> OneLeadReport | tuple[str, str]:
    """One lead scored without pandas; or, when a value needs the frame's validation, the
    JSON text read and its name, for :func:`jobs.score.run_scoring` (``lead_read``): the
    text of ``-`` can be read only once."""
    import numpy as np

    from prospect_predictor.data.one_lead import (
        NeedsFrame,
        check_lead,
        derived_values,
        lead_text,
        read_lead,
        unseen_lines,
    )
    from prospect_predictor.jobs.score import _record_context, _scoring_bundle
    from prospect_predictor.scoring.one_lead import lead_row
    from prospect_predictor.scoring.rows import record
    from prospect_predictor.scoring.score import score

    text, source = lead_text(lead_json)
    bundle, metadata, lang, notices = _scoring_bundle(model_dir, lang)
    fields = read_lead(text, metadata, source)
    try:
        checked = check_lead(fields, source)
    except NeedsFrame:
        return text, source
    values = checked.values | derived_values(
        checked.values, metadata.get("derived", {}), fields.schema
    )
    scores = score(bundle.model, metadata, {k: [v] for k, v in values.items()}, np.array([1]))
    row = lead_row(scores, metadata, lang, fields.unknown)
    return OneLeadReport(
        row,
        record(row, *_record_context(scores, lang)),
        metadata,
        lang,
        unseen_lines(checked.unseen),
        fields.unknown,
        (text, source),
        scores,
        notices,
    )
