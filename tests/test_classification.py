from __future__ import annotations

import numpy as np
import pytest

from analyser.classification import CueMatcher, LexiconToneClassifier, parse_label_cell
from analyser.features import build_features
from analyser.taxonomy import load_taxonomy

# Unmistakable comments: each names its label in words any coder would accept.
CLEAR = [
    ("Onze manager komt zijn beloftes nooit na en er wordt niets gedaan met de enquête.", "nl", "reliability"),
    (
        "Management promised us new staff twice and broke that promise both times, pure lip service.",
        "en",
        "reliability",
    ),
    ("We horen alles via de wandelgangen, niemand vertelt ons waarom besluiten genomen worden.", "nl", "transparency"),
    ("Nobody tells us anything, we hear about decisions through the grapevine.", "en", "transparency"),
    ("Ik krijg nooit een bedankje of compliment voor al het extra werk.", "nl", "recognition"),
    ("Never a thank you from my manager, our hard work goes unnoticed.", "en", "recognition"),
    ("Niemand heeft ons iets gevraagd, het nieuwe rooster werd van bovenaf opgelegd.", "nl", "inclusive_decisions"),
    ("Nobody asked us for our input, the new process was imposed from above.", "en", "inclusive_decisions"),
    ("Door de reorganisatie vertrekken goede collega's en ik solliciteer zelf ook.", "nl", "retention"),
    ("Great teamwork between planning and the warehouse, we help each other out.", "en", "collaboration"),
]


@pytest.fixture(scope="module")
def clear_features(analyser):  # type: ignore[no-untyped-def]
    return build_features([c[0] for c in CLEAR], [c[1] for c in CLEAR], analyser.encoder, analyser.processor)


def test_cue_matcher_finds_cues_in_any_order_and_by_lemma(analyser, clear_features) -> None:  # type: ignore[no-untyped-def]
    matches = CueMatcher(load_taxonomy()).match(clear_features)
    assert "reliability" in matches[0]  # "beloftes ... nooit na" is not "beloftes nakomen", but the survey cue is
    assert any("grapevine" in phrase for _, phrase in matches[3]["transparency"])
    assert "inclusive_decisions" in matches[7]
    # A one-word reduction of a multi-word cue needs the whole phrase: "team lead" is not "other teams".
    lead = build_features(["My team lead is great."], ["en"], analyser.encoder, analyser.processor)
    assert "collaboration" not in CueMatcher(load_taxonomy()).match(lead)[0]


def test_zero_shot_labels_unmistakable_comments(analyser, clear_features) -> None:  # type: ignore[no-untyped-def]
    classifier = analyser.classifier
    proba = classifier.predict_proba(clear_features)
    assert proba.shape == (len(CLEAR), 10)
    assert ((proba >= 0) & (proba <= 1)).all()
    predicted = classifier.predict(clear_features)
    for i, (_, _, label) in enumerate(CLEAR):
        assert predicted[i, classifier.labels_.index(label)], CLEAR[i][0]


def test_no_label_is_a_valid_answer(analyser) -> None:  # type: ignore[no-untyped-def]
    texts = ["De koffieautomaat op de tweede verdieping is al weken kapot.", "Parking spaces near the entrance please."]
    features = build_features(texts, ["nl", "en"], analyser.encoder, analyser.processor)
    assert not analyser.classifier.predict(features).any()


def test_evidence_names_the_sentence_of_the_strongest_label(analyser) -> None:  # type: ignore[no-untyped-def]
    text = "De kantine is prima. Maar niemand vertelt ons waarom de afdeling wordt opgeheven."
    features = build_features([text], ["nl"], analyser.encoder, analyser.processor)
    proba = analyser.classifier.predict_proba(features)
    evidence = analyser.classifier.explain(features, proba)[0]
    assert evidence.label == "transparency"
    assert evidence.sentence == "Maar niemand vertelt ons waarom de afdeling wordt opgeheven."
    assert "transparency" in evidence.cues


def test_fitting_centres_on_labelled_data_moves_thresholds(analyser, clear_features) -> None:  # type: ignore[no-untyped-def]
    from analyser.classification import ZeroShotLabelClassifier

    labels = analyser.classifier.labels_
    Y = np.zeros((len(CLEAR), len(labels)), dtype=bool)
    for i, (_, _, label) in enumerate(CLEAR):
        Y[i, labels.index(label)] = True
    fitted = ZeroShotLabelClassifier(analyser.encoder, center=0.9).fit(clear_features, Y)
    unfitted = ZeroShotLabelClassifier(analyser.encoder, center=0.9).fit()
    assert (fitted.centers_ < unfitted.centers_).any()


@pytest.mark.parametrize(
    ("text", "language", "tone"),
    [
        ("Mijn leidinggevende is top, ik voel me echt gewaardeerd.", "nl", "positive"),
        ("Great manager, very supportive and honest.", "en", "positive"),
        ("Niemand luistert, het is echt belachelijk en demotiverend.", "nl", "negative"),
        ("Communication is terrible and management is not honest with us.", "en", "negative"),
        ("Het team is fijn. Maar het MT is onduidelijk en niet eerlijk.", "nl", "mixed"),
        ("Great colleagues. But the management is awful and never listens.", "en", "mixed"),
        ("Wanneer komt de nieuwe planning uit?", "nl", "neutral"),
    ],
)
def test_lexicon_tone(analyser, text: str, language: str, tone: str) -> None:  # type: ignore[no-untyped-def]
    features = build_features([text], [language], analyser.encoder, analyser.processor)
    assert LexiconToneClassifier().fit().predict(features) == [tone]


def test_parse_label_cell() -> None:
    assert parse_label_cell("transparency; reliability") == ["transparency", "reliability"]
    assert parse_label_cell("") == []
    assert parse_label_cell(float("nan")) == []
    assert parse_label_cell(["empathy"]) == ["empathy"]


def test_indexed_cue_matching_equals_checking_every_cue(analyser) -> None:  # type: ignore[no-untyped-def]
    texts = [c[0] for c in CLEAR] + [
        "Er wordt nooit iets gedaan met de resultaten van de enquête.",
        "We were never asked; decisions are made behind closed doors and promises get broken.",
    ]
    features = build_features(texts, [c[1] for c in CLEAR] + ["nl", "en"], analyser.encoder, analyser.processor)
    indexed = CueMatcher(load_taxonomy())
    found = indexed._match(features)
    assert sum(len(f) for f in found) >= len(CLEAR)
    # Without the index every cue is checked in the taxonomy's order: the same matches, in the same order.
    indexed._always = {language: list(range(len(cues))) for language, cues in indexed.cues.items()}
    indexed._index = {language: {} for language in indexed.cues}
    assert indexed._match(features) == found
