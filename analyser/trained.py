"""Trained heads on the encoder body: labels (multi-label) and tone.

The label head is two-staged. First, one logistic regression per label over four signals:
the comment embedding, the zero-shot similarity to each label's bilingual
description and cues, the cue evidence per label, and word and character
n-grams (TF-IDF) that catch the phrasings topic similarity misses ("lip
service", "nooit gevraagd"), Platt-calibrated on out-of-fold scores. Then a
small logistic regression per label over all ten first-stage probabilities and
the signals, which learns how labels travel together. Each label has its own
threshold, chosen on the second stage's out-of-fold probabilities to maximise
F1. The tone head is a multinomial
logistic regression over the embedding, the lexicon tone and the n-grams.

Artefacts are plain arrays (``weights.npz``, loaded with
``allow_pickle=False``) and JSON, so loading a model never runs code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.preprocessing import normalize

from .classification import TONES, Evidence, LexiconToneClassifier, ZeroShotLabelClassifier
from .encoding import Encoder
from .errors import ConfigurationError
from .features import Features
from .paths import models_dir
from .taxonomy import Taxonomy, load_taxonomy

DEFAULT_MODEL = "trust-default"
FORMAT_VERSION = 3


def default_model_name(encoder_name: str) -> str:
    """The bundled model for an encoder: trust-default for the default encoder, trust-<encoder> otherwise."""
    if encoder_name in ("use-multilingual", ""):
        return DEFAULT_MODEL
    return "trust-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", encoder_name).strip("-")


def resolve_model_dir(model: str | Path | None, encoder_name: str = "") -> Path:
    """A model by folder path, or by name inside ``models/``; by default the one for the encoder."""
    if model is None:
        return models_dir() / default_model_name(encoder_name)
    path = Path(model)
    if path.is_dir() or path.is_absolute() or len(path.parts) > 1:
        return path
    return models_dir() / str(model)


def _lemma_text(X: Features) -> list[str]:
    return [" ".join(item.lemmas()) for item in X.processed]


@dataclass
class _Vectorizers:
    """Word, lemma and character TF-IDF, stored as vocabularies and idf arrays.

    Lemma n-grams let "beloofd", "beloven" and "belofte" share evidence in
    Dutch, where word forms vary more than in English.
    """

    word: TfidfVectorizer
    lemma: TfidfVectorizer
    char: TfidfVectorizer
    # word -> its char n-gram columns, filled as texts are transformed
    char_words_: dict[str, list[int]] = field(default_factory=dict, repr=False, compare=False)

    @staticmethod
    def new(max_char_features: int) -> _Vectorizers:
        return _Vectorizers(
            word=TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, lowercase=True),
            lemma=TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, lowercase=True),
            char=TfidfVectorizer(
                analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True, max_features=max_char_features
            ),
        )

    def _parts(self) -> tuple[tuple[str, TfidfVectorizer], ...]:
        return (("word", self.word), ("lemma", self.lemma), ("char", self.char))

    def fit(self, X: Features) -> _Vectorizers:
        self.word.fit(X.texts)
        self.lemma.fit(_lemma_text(X))
        self.char.fit(X.texts)
        return self

    def transform(self, X: Features) -> sp.csr_matrix:
        return sp.hstack(
            [self.word.transform(X.texts), self.lemma.transform(_lemma_text(X)), self._char_transform(X.texts)]
        ).tocsr()

    def _char_transform(self, texts: list[str]) -> sp.csr_matrix:
        """``self.char.transform(texts)``, computed word by word.

        char_wb n-grams never cross a word boundary, so a text's counts are the
        sum of its words' counts. Survey comments repeat their words, so each
        distinct word is analysed once; that was most of the TF-IDF time. The
        weighting is TfidfTransformer's (sublinear tf, idf, l2), so the result
        equals scikit-learn's.
        """
        vocabulary = self.char.vocabulary_
        analyse = self.char.build_analyzer()
        if len(self.char_words_) > 500_000:  # bounded memory on endless streams of new words
            self.char_words_.clear()
        cache = self.char_words_
        indices: list[int] = []
        indptr = [0]
        for text in texts:
            for word in text.lower().split():  # as char_wb: lower case, then split on white space
                ids = cache.get(word)
                if ids is None:
                    ids = cache[word] = [vocabulary[g] for g in analyse(word) if g in vocabulary]
                indices.extend(ids)
            indptr.append(len(indices))
        matrix = sp.csr_matrix(
            (np.ones(len(indices)), np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
            shape=(len(texts), len(vocabulary)),
        )
        matrix.sum_duplicates()
        np.log(matrix.data, out=matrix.data)
        matrix.data += 1.0
        matrix.data *= self.char.idf_[matrix.indices]
        return normalize(matrix, norm="l2", copy=False)

    def state(self) -> tuple[dict[str, list[str]], dict[str, np.ndarray]]:
        vocab, arrays = {}, {}
        for name, vectorizer in self._parts():
            terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
            vocab[name] = terms
            arrays[f"{name}_idf"] = vectorizer.idf_.astype(np.float32)
        return vocab, arrays

    @staticmethod
    def from_state(vocab: dict[str, list[str]], arrays: Any, max_char_features: int) -> _Vectorizers:
        out = _Vectorizers.new(max_char_features)
        for name, vectorizer in out._parts():
            vectorizer.vocabulary_ = {term: i for i, term in enumerate(vocab[name])}
            vectorizer.idf_ = np.asarray(arrays[f"{name}_idf"], dtype=np.float64)
        return out


def _best_threshold(y: np.ndarray, proba: np.ndarray) -> float:
    best, best_f1 = 0.5, -1.0
    for threshold in np.arange(0.15, 0.91, 0.025):
        predicted = proba >= threshold
        tp = np.sum(predicted & y)
        f1 = 2 * tp / max(1, predicted.sum() + y.sum())
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(threshold), f1
    return best


class TrainedModel:
    """Label and tone heads, trained together on one labelled set.

    Settings in ``__init__``; ``fit`` learns; learned state ends in ``_``.
    """

    def __init__(
        self,
        encoder: Encoder,
        taxonomy: Taxonomy | None = None,
        C: float = 16.0,
        tone_C: float = 4.0,
        stack_C: float = 1.0,
        folds: int = 5,
        max_char_features: int = 60000,
        random_state: int = 0,
    ) -> None:
        self.encoder = encoder
        self.taxonomy = taxonomy
        self.C = C
        self.tone_C = tone_C
        self.stack_C = stack_C
        self.folds = folds
        self.max_char_features = max_char_features
        self.random_state = random_state

    # ------------------------------------------------------------- features
    def _signals(self, X: Features) -> tuple[np.ndarray, np.ndarray]:
        """Zero-shot similarity and cue evidence per label, computed once per batch."""
        similarity = self.zero_shot_.similarity(X)
        cues = self.zero_shot_._cue_matrix(self.zero_shot_.matcher_.match(X)).astype(np.float32)
        return similarity, cues

    def _label_matrix(self, X: Features, signals: tuple[np.ndarray, np.ndarray]) -> sp.csr_matrix:
        similarity, cues = signals
        # The zero-shot similarity is scaled to the embedding's magnitude range.
        dense = np.hstack([X.embeddings, similarity * 3.0, cues])
        return sp.hstack([sp.csr_matrix(dense), self._ngrams(X)]).tocsr()

    def _ngrams(self, X: Features) -> sp.csr_matrix:
        """The TF-IDF n-grams, computed once per batch: the label and tone heads share them."""
        return X.memo("ngrams", self, lambda: self.vectorizers_.transform(X))

    @staticmethod
    def _stack_matrix(first: np.ndarray, signals: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Second stage: every label's first-stage probability next to the signals.

        Labels travel together ("no thanks after the reorganisation" is
        recognition and change); the second stage learns those patterns.
        """
        clipped = np.clip(first, 1e-4, 1 - 1e-4)
        return np.hstack([clipped, np.log(clipped / (1 - clipped)) / 5.0, *signals])

    def _tone_matrix(self, X: Features) -> sp.csr_matrix:
        lexicon = self.lexicon_.predict_proba(X)
        return sp.hstack([sp.csr_matrix(np.hstack([X.embeddings, lexicon])), self._ngrams(X)]).tocsr()

    def _prepare(self) -> None:
        taxonomy = self.taxonomy or load_taxonomy()
        self.taxonomy_ = taxonomy
        self.labels_ = taxonomy.keys
        self.zero_shot_ = ZeroShotLabelClassifier(self.encoder, taxonomy).fit()
        self.lexicon_ = LexiconToneClassifier().fit()

    # ------------------------------------------------------------------ fit
    def fit(
        self, X: Features, Y: np.ndarray, tones: list[str] | None = None, sample_weight: np.ndarray | None = None
    ) -> TrainedModel:
        """Learn from embeddings and labels; ``sample_weight`` lets corrections count more."""
        Y = np.asarray(Y, dtype=bool)
        weight = np.ones(len(Y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self._prepare()
        self.vectorizers_ = _Vectorizers.new(self.max_char_features).fit(X)
        signals = self._signals(X)
        matrix = self._label_matrix(X, signals)
        n_labels = Y.shape[1]
        splitter = KFold(n_splits=self.folds, shuffle=True, random_state=self.random_state)
        folds = list(splitter.split(matrix))
        # First stage, out of fold: calibration and the second stage learn on
        # scores for comments the heads did not see.
        oof = np.zeros(Y.shape, dtype=np.float64)
        for train_index, held_index in folds:
            for j in range(n_labels):
                head = self._new_head(self.C).fit(
                    matrix[train_index], Y[train_index, j], sample_weight=weight[train_index]
                )
                oof[held_index, j] = head.decision_function(matrix[held_index])
        self.platt_ = np.zeros((n_labels, 2), dtype=np.float64)
        for j in range(n_labels):
            platt = LogisticRegression(C=1e4).fit(oof[:, [j]], Y[:, j])
            self.platt_[j] = [platt.coef_[0, 0], platt.intercept_[0]]
        heads = [self._new_head(self.C).fit(matrix, Y[:, j], sample_weight=weight) for j in range(n_labels)]
        self.coef_ = np.vstack([h.coef_.ravel() for h in heads]).astype(np.float32)
        self.intercept_ = np.array([h.intercept_[0] for h in heads], dtype=np.float32)
        # Second stage, its own out-of-fold probabilities set the thresholds.
        stacked = self._stack_matrix(self._calibrate_all(oof), signals)
        stack_oof = np.zeros(Y.shape, dtype=np.float64)
        self.stack_coef_ = np.zeros((n_labels, stacked.shape[1]), dtype=np.float32)
        self.stack_intercept_ = np.zeros(n_labels, dtype=np.float32)
        self.thresholds_ = np.zeros(n_labels, dtype=np.float32)
        for j in range(n_labels):
            for train_index, held_index in folds:
                stage = self._new_stack_head().fit(
                    stacked[train_index], Y[train_index, j], sample_weight=weight[train_index]
                )
                stack_oof[held_index, j] = stage.predict_proba(stacked[held_index])[:, 1]
            stage = self._new_stack_head().fit(stacked, Y[:, j], sample_weight=weight)
            self.stack_coef_[j] = stage.coef_.ravel()
            self.stack_intercept_[j] = stage.intercept_[0]
            self.thresholds_[j] = _best_threshold(Y[:, j], stack_oof[:, j])
        self.oof_scores_ = stack_oof
        if tones is not None:
            tone_head = LogisticRegression(C=self.tone_C, max_iter=3000, random_state=self.random_state)
            tone_head.fit(self._tone_matrix(X), list(tones), sample_weight=weight)
            order = [list(tone_head.classes_).index(t) for t in TONES if t in tone_head.classes_]
            self.tone_classes_ = [str(tone_head.classes_[i]) for i in order]
            self.tone_coef_ = tone_head.coef_[order].astype(np.float32)
            self.tone_intercept_ = tone_head.intercept_[order].astype(np.float32)
        return self

    def _new_head(self, C: float) -> LogisticRegression:
        return LogisticRegression(
            C=C, class_weight="balanced", solver="liblinear", max_iter=3000, random_state=self.random_state
        )

    def _new_stack_head(self) -> LogisticRegression:
        return LogisticRegression(C=self.stack_C, max_iter=3000, random_state=self.random_state)

    def _calibrate(self, scores: np.ndarray, j: int) -> np.ndarray:
        a, b = self.platt_[j]
        return 1.0 / (1.0 + np.exp(-(a * scores + b)))

    def _calibrate_all(self, scores: np.ndarray) -> np.ndarray:
        return np.column_stack([self._calibrate(scores[:, j], j) for j in range(scores.shape[1])])

    # -------------------------------------------------------------- predict
    def predict_proba(self, X: Features) -> np.ndarray:
        signals = self._signals(X)
        first = self._calibrate_all(np.asarray(self._label_matrix(X, signals) @ self.coef_.T) + self.intercept_)
        logits = self._stack_matrix(first, signals) @ self.stack_coef_.T + self.stack_intercept_
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def predict(self, X: Features) -> np.ndarray:
        return self.predict_proba(X) >= self.thresholds_

    def tone_proba(self, X: Features) -> np.ndarray:
        logits = np.asarray(self._tone_matrix(X) @ self.tone_coef_.T) + self.tone_intercept_
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        proba /= proba.sum(axis=1, keepdims=True)
        out = np.zeros((len(X), len(TONES)), dtype=np.float32)
        for k, tone in enumerate(self.tone_classes_):
            out[:, TONES.index(tone)] = proba[:, k]
        return out

    def explain(self, X: Features, proba: np.ndarray) -> list[Evidence]:
        # Same rule as the zero-shot classifier (cue sentence, else the most
        # similar sentence), applied to this model's decisions.
        return self.zero_shot_.explain(X, proba, thresholds=self.thresholds_)

    # --------------------------------------------------------- persistence
    def save(self, folder: str | Path, card: dict[str, Any] | None = None) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        vocab, arrays = self.vectorizers_.state()
        arrays.update(
            coef=self.coef_,
            intercept=self.intercept_,
            platt=self.platt_,
            thresholds=self.thresholds_,
            stack_coef=self.stack_coef_,
            stack_intercept=self.stack_intercept_,
            tone_coef=self.tone_coef_,
            tone_intercept=self.tone_intercept_,
        )
        np.savez_compressed(folder / "weights.npz", **arrays)
        (folder / "vocabulary.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        meta = {
            "format_version": FORMAT_VERSION,
            "labels": self.labels_,
            "tones": self.tone_classes_,
            "thresholds": {k: round(float(t), 4) for k, t in zip(self.labels_, self.thresholds_)},
            "encoder": {"name": self.encoder.name, "version": self.encoder.version},
            "taxonomy": self.taxonomy_.version_tag,
            "settings": {
                "C": self.C,
                "tone_C": self.tone_C,
                "stack_C": self.stack_C,
                "folds": self.folds,
                "max_char_features": self.max_char_features,
                "random_state": self.random_state,
            },
            **(card or {}),
        }
        (folder / "model.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | Path, encoder: Encoder, taxonomy: Taxonomy | None = None) -> TrainedModel:
        folder = Path(folder)
        meta_path = folder / "model.json"
        if not meta_path.is_file():
            raise ConfigurationError(
                f"There is no trained model in {folder} (model.json is missing).",
                f"Train one with 'analyser train data/train --out {folder} --encoder {encoder.name}', "
                "or use --classifier zero-shot.",
            )
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format_version") != FORMAT_VERSION:
            raise ConfigurationError(
                f"The model in {folder} has format {meta.get('format_version')}, this analyser reads {FORMAT_VERSION}.",
                "Retrain it with 'analyser train'.",
            )
        if meta["encoder"]["name"] != encoder.name:
            raise ConfigurationError(
                f"The model in {folder} was trained on the encoder '{meta['encoder']['name']}', "
                f"not on '{encoder.name}'.",
                f"Use --encoder {meta['encoder']['name']}, train a model for this encoder with "
                "'analyser train --encoder ...', or use --classifier zero-shot.",
            )
        settings = meta["settings"]
        model = cls(
            encoder,
            taxonomy,
            C=settings["C"],
            tone_C=settings["tone_C"],
            stack_C=settings["stack_C"],
            folds=settings["folds"],
            max_char_features=settings["max_char_features"],
            random_state=settings["random_state"],
        )
        model._prepare()
        if list(meta["labels"]) != model.labels_:
            raise ConfigurationError(
                f"The model in {folder} knows the labels {', '.join(meta['labels'])}, which differ from the taxonomy.",
                "Retrain it with the current taxonomy.",
            )
        with np.load(folder / "weights.npz", allow_pickle=False) as arrays:
            vocab = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
            model.vectorizers_ = _Vectorizers.from_state(vocab, arrays, model.max_char_features)
            model.coef_ = arrays["coef"]
            model.intercept_ = arrays["intercept"]
            model.platt_ = arrays["platt"]
            model.thresholds_ = arrays["thresholds"]
            model.stack_coef_ = arrays["stack_coef"]
            model.stack_intercept_ = arrays["stack_intercept"]
            model.tone_coef_ = arrays["tone_coef"]
            model.tone_intercept_ = arrays["tone_intercept"]
        model.tone_classes_ = list(meta["tones"])
        model.meta_ = meta
        return model


_LOADED: dict[tuple[str, int, str, int], TrainedModel] = {}


def load_model(folder: Path, encoder: Encoder, taxonomy: Taxonomy | None) -> TrainedModel:
    """Load a model once per process: the label and tone heads share it."""
    meta = folder / "model.json"
    key = (str(folder.resolve()), meta.stat().st_mtime_ns if meta.exists() else 0, encoder.name, id(taxonomy))
    if key not in _LOADED:
        _LOADED[key] = TrainedModel.load(folder, encoder, taxonomy)
    return _LOADED[key]


class _TrainedView:
    """Shared loading for the pipeline's views of one trained model."""

    def __init__(self, encoder: Encoder, taxonomy: Taxonomy | None = None, model: str | Path | None = None) -> None:
        self.encoder = encoder
        self.taxonomy = taxonomy
        self.model = model

    def _load(self) -> None:
        self.model_dir_ = resolve_model_dir(self.model, self.encoder.name)
        self.model_ = load_model(self.model_dir_, self.encoder, self.taxonomy)
        self.version = f"{self.model_dir_.name}@{self.model_.meta_.get('trained_at', 'unknown')}"


class TrainedLabelClassifier(_TrainedView):
    """The pipeline's view of a trained model's label head."""

    name = "trained"

    def fit(self, X: Features | None = None, Y: np.ndarray | None = None) -> TrainedLabelClassifier:
        self._load()
        self.labels_ = self.model_.labels_
        self.thresholds_ = self.model_.thresholds_
        return self

    def predict_proba(self, X: Features) -> np.ndarray:
        return self.model_.predict_proba(X)

    def predict(self, X: Features) -> np.ndarray:
        return self.model_.predict(X)

    def explain(self, X: Features, proba: np.ndarray) -> list[Evidence]:
        return self.model_.explain(X, proba)


class TrainedToneClassifier(_TrainedView):
    """The pipeline's view of a trained model's tone head."""

    name = "trained-tone"

    def fit(self, X: Features | None = None, y: list[str] | None = None) -> TrainedToneClassifier:
        self._load()
        self.classes_ = list(TONES)
        return self

    def predict_proba(self, X: Features) -> np.ndarray:
        return self.model_.tone_proba(X)

    def predict(self, X: Features) -> list[str]:
        return [TONES[j] for j in self.predict_proba(X).argmax(axis=1)]


def _register() -> None:
    from .registry import register

    register("label_classifier", "trained")(
        lambda encoder, taxonomy=None, model=None, **kw: TrainedLabelClassifier(encoder, taxonomy, model)
    )
    register("tone_classifier", "trained")(
        lambda encoder=None, taxonomy=None, model=None, **kw: TrainedToneClassifier(encoder, taxonomy, model)
    )


_register()
