"""Language identification, offline, tuned for short survey answers.

Survey files mix Dutch and English. A general detector is unsure on a
three-word answer, so the detector first asks whether the text is clearly in
another language (German, French...), and otherwise decides between Dutch and
English only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

SUPPORTED_LANGUAGES = ("nl", "en")
# Languages a short Dutch text is often mistaken for (Afrikaans, Frisian,
# Limburgish, Luxembourgish): never a reason to call Dutch "other".
_DUTCH_LOOKALIKES = {"af", "fy", "li", "lb", "nl"}


@dataclass(frozen=True)
class LanguageGuess:
    language: str  # "nl", "en" or the ISO code of another language
    confidence: float

    @property
    def supported(self) -> bool:
        return self.language in SUPPORTED_LANGUAGES


class LanguageDetector(Protocol):
    name: str

    def detect(self, texts: list[str]) -> list[LanguageGuess]: ...


class Py3LangidDetector:
    """py3langid (a langid.py port): small, fast, entirely offline."""

    name = "py3langid"

    def __init__(self, other_confidence: float = 0.9, min_words_for_other: int = 4) -> None:
        self.other_confidence = other_confidence
        self.min_words_for_other = min_words_for_other
        self._full = None
        self._restricted = None
        self._pair: list[int] = []
        self._fast = False

    def load(self) -> None:
        """Read the model now (the first ``detect`` would): before worker processes fork."""
        if self._full is None:
            self._load()

    def _load(self) -> None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        self._full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        classes = list(self._full.nb_classes)
        # The Dutch-or-English decision reuses the full model's scores (the
        # restricted model is the same model with fewer columns), so each text
        # is scanned once instead of twice.
        # In the model's column order, so that a tie goes where py3langid sends it.
        self._pair = sorted(classes.index(language) for language in SUPPORTED_LANGUAGES)
        self._fast = all(
            hasattr(self._full, name) for name in ("_encode", "_raw_score", "_decide", "_alias_pairs")
        ) and all(classes.count(language) == 1 for language in SUPPORTED_LANGUAGES)
        if not self._fast:  # another py3langid version: two models, as documented
            self._restricted = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            self._restricted.set_languages(list(SUPPORTED_LANGUAGES))

    def detect_one(self, text: str) -> LanguageGuess:
        if self._full is None:
            self._load()
        if not self._fast:
            if len(text.split()) >= self.min_words_for_other:
                top, probability = self._full.classify(text)
                if top not in _DUTCH_LOOKALIKES and top != "en" and probability >= self.other_confidence:
                    return LanguageGuess(top, float(probability))
            language, probability = self._restricted.classify(text)
            return LanguageGuess(language, float(probability))
        # py3langid's own steps (LanguageIdentifier._decide), split so that the
        # raw scores serve both questions.
        encoded = self._full._encode(text)
        raw = self._full._raw_score(encoded) * (1.0 / math.sqrt(len(encoded) or 1))
        if len(text.split()) >= self.min_words_for_other:
            scores = np.exp(raw - raw.max())
            scores /= scores.sum()
            for i, j in self._full._alias_pairs:
                scores[i] += scores[j]
                scores[j] = 0.0
            best = int(scores.argmax())
            top = self._full.nb_classes[best]
            if top not in _DUTCH_LOOKALIKES and top != "en" and scores[best] >= self.other_confidence:
                return LanguageGuess(top, float(scores[best]))
        pair = raw[self._pair]
        pair = np.exp(pair - pair.max())
        pair /= pair.sum()
        k = int(pair.argmax())
        return LanguageGuess(self._full.nb_classes[self._pair[k]], float(pair[k]))

    def detect(self, texts: list[str]) -> list[LanguageGuess]:
        return [self.detect_one(text) for text in texts]


class FixedLanguage:
    """Every comment in one language, as the user said."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.name = f"fixed:{language}"

    def detect(self, texts: list[str]) -> list[LanguageGuess]:
        return [LanguageGuess(self.language, 1.0) for _ in texts]


def make_detector(language: str = "auto") -> LanguageDetector:
    from .errors import ConfigurationError

    if language == "auto":
        return Py3LangidDetector()
    if language in SUPPORTED_LANGUAGES:
        return FixedLanguage(language)
    raise ConfigurationError(f"Language '{language}' is not supported.", "Use auto, nl or en.")
