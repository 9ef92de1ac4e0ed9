"""A pipeline's [phrases]: how the output says each feature, checked against its kind."""

from __future__ import annotations

import pytest

from prospect_predictor.config.pipeline import load_pipeline
from prospect_predictor.errors import ConfigError
from prospect_predictor.language import texts
from tests.conftest import DEFAULT_PIPELINE


def _with(tmp_path, extra: str):
    path = tmp_path / "p.toml"
    path.write_text(DEFAULT_PIPELINE.read_text() + "\n" + extra)
    return path


def test_a_firms_phrases_are_used_and_kept_in_the_bundle_metadata(tmp_path):
    text = DEFAULT_PIPELINE.read_text().replace(
        '[phrases.no_shows]\nen = { label = "missed meetings"',
        '[phrases.no_shows]\nen = { label = "missed appointments"',
    )
    assert text != DEFAULT_PIPELINE.read_text()
    path = tmp_path / "p.toml"
    path.write_text(text)
    phrases = load_pipeline(path).phrases_metadata()
    assert texts.column_label("no_shows", "en", phrases) == "missed appointments"
    assert texts.describe_feature("no_shows", 2, "en", kind="int", phrases=phrases) == (
        "2 missed meetings"
    )


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            '[phrases.colour]\nen = { label = "colour", text = "{value}" }\n'
            'fr = { label = "couleur", text = "{value}" }',
            "phrases.colour: not a feature of this pipeline",
        ),
        (
            '[phrases.newsletter_opt_in]\nen = { label = "newsletter" }\nfr = { label = "lettre" }',
            "phrases.newsletter_opt_in.en: a bool feature needs true, false",
        ),
    ],
)
def test_phrases_that_cannot_be_used_are_named(tmp_path, extra, message):
    source = DEFAULT_PIPELINE.read_text()
    if "[phrases.newsletter_opt_in]" in extra:  # replace the shipped one
        start = source.index("[phrases.newsletter_opt_in]")
        end = source.find("\n[", start + 1)
        source = source[:start] + (source[end + 1 :] if end >= 0 else "")
    path = tmp_path / "p.toml"
    path.write_text(source + "\n" + extra + "\n")
    with pytest.raises(ConfigError, match=message):
        load_pipeline(path)
