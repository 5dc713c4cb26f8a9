from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyser import Analyser, Settings, analyse
from analyser.errors import ConfigurationError, InputError
from analyser.trained import TrainedModel, resolve_model_dir
from analyser.training import evaluate_model, load_labelled, train

REPO = Path(__file__).resolve().parent.parent
# The regression floor of the default model on the team's held-out test split
# (the target is 0.85; this catches a model or pipeline change that breaks it).
MACRO_F1_FLOOR = 0.80


def test_default_model_files_are_plain_arrays_and_json() -> None:
    folder = resolve_model_dir(None)
    meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    assert meta["encoder"]["name"] == "use-multilingual"
    assert set(meta["thresholds"]) == set(meta["labels"]) and len(meta["labels"]) == 10
    with np.load(folder / "weights.npz", allow_pickle=False) as arrays:  # raises on any pickled object
        assert arrays["coef"].shape[0] == 10
        assert all(arrays[name].dtype != object for name in arrays.files)
    card = (folder / "MODEL_CARD.md").read_text(encoding="utf-8")
    for heading in ("## Training data", "## Thresholds", "## Evaluation on the held-out test split", "## Retrain"):
        assert heading in card


def test_default_model_meets_the_floor_on_the_test_split(analyser) -> None:  # type: ignore[no-untyped-def]
    assert analyser.classifier.name == "trained"
    data = load_labelled([REPO / "data" / "test"], analyser.taxonomy)
    # The test split is never part of the training data.
    train_texts = set(load_labelled([REPO / "data" / "train"], analyser.taxonomy).texts)
    assert not train_texts & set(data.texts)
    evaluation = evaluate_model(data, analyser=analyser)
    assert evaluation.macro_f1 >= MACRO_F1_FLOOR, evaluation.macro_f1
    for language in ("nl", "en"):
        assert evaluation.macro_f1_by_language[language] >= MACRO_F1_FLOOR - 0.05
    assert evaluation.tone_accuracy >= 0.75


def test_model_for_another_encoder_is_refused(tmp_path: Path) -> None:
    from analyser.encoding import make_encoder

    with pytest.raises(ConfigurationError, match="trained on the encoder 'use-multilingual'"):
        TrainedModel.load(resolve_model_dir(None), make_encoder("minilm"))
    with pytest.raises(ConfigurationError, match="no trained model"):
        TrainedModel.load(tmp_path, make_encoder())


CORRECTED = [
    # (text, language, corrected dimensions, corrected areas)
    ("De parkeerplaats bij de ingang is altijd vol, ik moet elke ochtend rondjes rijden.", "nl", "recognition", ""),
    ("The coffee machine on the second floor has been broken for weeks now.", "en", "", "culture"),
]


def test_retraining_with_corrections_changes_their_predictions(tmp_path: Path) -> None:
    base_file = REPO / "data" / "train" / "no_label_and_boundaries.jsonl"
    before_dir, _ = train([base_file], tmp_path / "before", test_paths=None)
    corrections = tmp_path / "corrections.csv"
    pd.DataFrame(
        [
            {"text": t, "language": lang, "dimensions": d, "areas": a, "tone": "negative", "status": "ok"}
            for t, lang, d, a in CORRECTED
        ]
    ).to_csv(corrections, index=False)
    after_dir, _ = train([base_file], tmp_path / "after", corrections=[corrections])
    frame = pd.DataFrame({"comment": [t for t, _, _, _ in CORRECTED]})
    before = analyse(frame, text_columns="comment", model=str(before_dir)).comments
    after = analyse(frame, text_columns="comment", model=str(after_dir)).comments
    assert before["dimensions"].tolist() == ["", ""] and before["areas"].tolist() == ["", ""]
    assert after["dimensions"].tolist()[0] == "recognition"
    assert after["areas"].tolist()[1] == "culture"
    assert after["score_recognition"][0] > before["score_recognition"][0]


def test_labelled_files_are_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"text": ["Niemand luistert hier naar ons"], "dimensions": ["trust"], "areas": [""]}).to_csv(
        bad, index=False
    )
    with pytest.raises(InputError, match="unknown label 'trust'"):
        load_labelled([bad])
    unlabeled = tmp_path / "plain.csv"
    pd.DataFrame({"text": ["Niemand luistert hier naar ons"]}).to_csv(unlabeled, index=False)
    with pytest.raises(InputError, match="no 'dimensions' or 'areas' column"):
        load_labelled([unlabeled])


def test_output_file_reads_back_as_training_data(tmp_path: Path, analyser) -> None:  # type: ignore[no-untyped-def]
    frame = pd.DataFrame({"comment": ["Niemand vertelt ons waarom besluiten genomen worden", "", "n.v.t."]})
    result = analyse(frame, text_columns="comment", analyser=analyser)
    path = result.save(tmp_path / "out.xlsx")
    data = load_labelled([path])
    assert data.texts == ["Niemand vertelt ons waarom besluiten genomen worden"]  # only labelled rows
    assert data.Y[0, data.labels.index("transparency")]


def test_evaluate_cli_prints_the_figures() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "analyser", "evaluate", str(REPO / "data" / "test"), "--min-macro-f1", "0.5"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    for text in ("precision", "recall", "macro-F1", "nl:", "en:", "tone accuracy", "no label", "most confused"):
        assert text in done.stdout


def test_zero_shot_stays_available() -> None:
    analyser = Analyser(Settings(classifier="zero-shot"))
    assert analyser.classifier.name == "zero-shot" and analyser.tone_classifier.name == "lexicon-tone"


def test_each_encoder_finds_its_bundled_model() -> None:
    from analyser.trained import default_model_name

    assert resolve_model_dir(None).name == "trust-default"
    assert resolve_model_dir(None, "use-multilingual").name == "trust-default"
    assert default_model_name("e5-small") == "trust-e5-small"
    assert default_model_name("transformers:/models/My Model") == "trust-transformers-models-My-Model"
    assert resolve_model_dir("custom").parent.name == "models"
    assert resolve_model_dir("/tmp/somewhere/model") == Path("/tmp/somewhere/model")


def test_character_ngrams_word_by_word_equal_scikit_learn() -> None:
    from analyser.trained import _Vectorizers

    train_texts = load_labelled([REPO / "data" / "train"]).texts[:400]
    vectorizers = _Vectorizers.new(20000)
    vectorizers.char.fit(train_texts)
    texts = [*train_texts[:50], "", "İstanbul  ÉÉN\ttwee\nDRIE", "a", "Nobody asked us. NOBODY!"]
    expected = vectorizers.char.transform(texts)
    for _ in range(2):  # the second time from the word cache
        got = vectorizers._char_transform(texts)
        assert got.shape == expected.shape and abs(got - expected).max() < 1e-12
