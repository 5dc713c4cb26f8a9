"""Label and tone classifiers (scikit-learn style: ``fit`` / ``predict_proba``).

The first classifier is zero-shot: a comment is scored per label by its
similarity (whole comment and each sentence) to the label's bilingual
description and cue phrases, and raised when a cue phrase occurs in one of its
sentences. Multi-label: every label whose probability reaches its threshold is
given, and "no label" is a valid answer. Trained classifiers keep the same
contract, so the pipeline does not change when one replaces another.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import yaml

from .encoding import Encoder
from .features import Features
from .paths import data_dir
from .taxonomy import LANGUAGES, Taxonomy, load_taxonomy
from .text import TextProcessor

# Words that decide the meaning of a cue although they are stop words
# ("nobody asked us" is not "asked us"); kept when cues are reduced to lemmas.
_MEANINGFUL_STOP_WORDS = {
    "nl": {"niet", "geen", "nooit", "niemand", "niets", "niks", "waarom", "zonder"},
    "en": {"not", "no", "never", "nobody", "nothing", "why", "without", "n't"},
}


@dataclass(frozen=True)
class Cue:
    label: str
    phrase: str
    terms: TermSet  # lemmas; a trailing "*" is a prefix
    # The phrase word by word (lemmas): required in this order when the cue has
    # fewer than two content words, since "other teams" is not just "team".
    sequence: tuple[str, ...] = ()


@dataclass
class Evidence:
    sentence: str = ""
    label: str = ""
    cues: dict[str, list[str]] = field(default_factory=dict)


class TermSet:
    """Words to look for; a term ending in "*" matches any word that starts with it."""

    def __init__(self, terms: list[str] | tuple[str, ...]) -> None:
        self.exact = frozenset(t for t in terms if not t.endswith("*"))
        self.prefixes = tuple(t[:-1] for t in terms if t.endswith("*"))

    def hit(self, word: str, lemma: str) -> bool:
        """Does a token (its lower-case form or its lemma) match any term?"""
        return (
            word in self.exact
            or lemma in self.exact
            or (bool(self.prefixes) and (word.startswith(self.prefixes) or lemma.startswith(self.prefixes)))
        )

    def all_in(self, words: set[str], ordered: list[str] | None = None) -> bool:
        """Does every term occur among the words? ``ordered``: the words sorted, if at hand."""
        if not self.exact <= words:
            return False
        if not self.prefixes:
            return True
        # A prefix matches iff the first word sorting at or after it starts with it.
        ordered = ordered if ordered is not None else sorted(words)
        for prefix in self.prefixes:
            k = bisect_left(ordered, prefix)
            if k == len(ordered) or not ordered[k].startswith(prefix):
                return False
        return True


def _contains_sequence(words: list[str], sequence: tuple[str, ...]) -> bool:
    width = len(sequence)
    for start in range(len(words) - width + 1):
        if all(
            words[start + k].startswith(term[:-1]) if term.endswith("*") else words[start + k] == term
            for k, term in enumerate(sequence)
        ):
            return True
    return False


class CueMatcher:
    """Finds a label's cue phrases in a comment: all words in one sentence, any order."""

    def __init__(self, taxonomy: Taxonomy, processor: TextProcessor | None = None) -> None:
        processor = processor or TextProcessor()
        self.cues: dict[str, list[Cue]] = {lang: [] for lang in LANGUAGES}
        for language in LANGUAGES:
            phrases = [(label.key, phrase) for label in taxonomy.labels for phrase in label.cues.get(language, ())]
            processed = processor.process([p.replace("*", "") for _, p in phrases], [language] * len(phrases))
            for (key, phrase), item in zip(phrases, processed):
                stars = {w.rstrip("*").lower() for w in phrase.split() if w.endswith("*")}
                terms = []
                sequence = []
                for sentence in item.tokens:
                    for lower, lemma, stop, alpha in sentence:
                        if alpha:
                            sequence.append(f"{lower}*" if lower in stars else lemma)
                        if not alpha and lower not in _MEANINGFUL_STOP_WORDS[language]:
                            continue
                        if stop and lower not in _MEANINGFUL_STOP_WORDS[language]:
                            continue
                        terms.append(f"{lower}*" if lower in stars else lemma)
                if terms:
                    needs_sequence = len(terms) < 2 and len(sequence) > 1
                    self.cues[language].append(
                        Cue(key, phrase, TermSet(list(dict.fromkeys(terms))), tuple(sequence) if needs_sequence else ())
                    )

        # An index from one required word of each cue to the cue, so a sentence
        # is checked only against the cues that can match it (a handful, not
        # all ~150); cues made only of prefixes are always checked.
        self._index: dict[str, dict[str, list[int]]] = {}
        self._always: dict[str, list[int]] = {}
        for language, cues in self.cues.items():
            index: dict[str, list[int]] = {}
            always = []
            for position, cue in enumerate(cues):
                if cue.terms.exact:
                    index.setdefault(min(cue.terms.exact), []).append(position)
                else:
                    always.append(position)
            self._index[language], self._always[language] = index, always

    def match(self, features: Features) -> list[dict[str, list[tuple[int, str]]]]:
        """Per comment: label -> [(sentence index, cue phrase)]."""
        return features.memo("cues", self, lambda: self._match(features))

    def _match(self, features: Features) -> list[dict[str, list[tuple[int, str]]]]:
        out = []
        for language, processed in zip(features.languages, features.processed):
            found: dict[str, list[tuple[int, str]]] = {}
            cues = self.cues.get(language, [])
            index = self._index.get(language, {})
            always = self._always.get(language, [])
            for s, tokens in enumerate(processed.tokens):
                words = {lower for lower, _, _, _ in tokens} | {lemma for _, lemma, _, _ in tokens}
                lemmas = [lemma for _, lemma, _, alpha in tokens if alpha]
                candidates = set(always)
                for word in words:
                    candidates.update(index.get(word, ()))
                ordered = sorted(words)
                for position in sorted(candidates):  # in the taxonomy's order, as before
                    cue = cues[position]
                    if not cue.terms.all_in(words, ordered):
                        continue
                    if cue.sequence and not _contains_sequence(lemmas, cue.sequence):
                        continue
                    found.setdefault(cue.label, []).append((s, cue.phrase))
            out.append(found)
        return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class ZeroShotLabelClassifier:
    """Similarity to bilingual label descriptions and cues, plus cue evidence.

    Parameters are settings; ``fit`` computes the label prototypes (and, given
    labelled examples, per-label similarity centres). Learned state ends in
    ``_``.
    """

    name = "zero-shot"
    version = "1.0"

    def __init__(
        self,
        encoder: Encoder,
        taxonomy: Taxonomy | None = None,
        center: float = 0.40,
        scale: float = 0.04,
        top_k: int = 2,
        cue_probability: float = 0.8,
        threshold: float = 0.5,
    ) -> None:
        self.encoder = encoder
        self.taxonomy = taxonomy
        self.center = center
        self.scale = scale
        self.top_k = top_k
        self.cue_probability = cue_probability
        self.threshold = threshold

    # -- fitting ----------------------------------------------------------
    def fit(self, X: Features | None = None, Y: np.ndarray | None = None) -> ZeroShotLabelClassifier:
        taxonomy = self.taxonomy or load_taxonomy()
        self.taxonomy_ = taxonomy
        self.labels_ = taxonomy.keys
        texts, owners = [], []
        for index, label in enumerate(taxonomy.labels):
            for language in LANGUAGES:
                texts.append(f"{label.name[language]}: {label.description[language]}")
                owners.append(index)
                for cue in label.cues.get(language, ()):
                    texts.append(cue.replace("*", ""))
                    owners.append(index)
        self.prototypes_ = self.encoder.encode(texts)
        self.prototype_label_ = np.asarray(owners)
        self.matcher_ = CueMatcher(taxonomy)
        self.centers_ = np.full(len(self.labels_), self.center, dtype=np.float32)
        self.thresholds_ = np.full(len(self.labels_), self.threshold, dtype=np.float32)
        if X is not None and Y is not None:
            self._fit_centers(X, np.asarray(Y, dtype=bool))
        return self

    def _fit_centers(self, X: Features, Y: np.ndarray) -> None:
        """Choose each label's similarity centre to maximise F1 on labelled data."""
        similarity = self.similarity(X)
        cue_hits = self._cue_matrix(self.matcher_.match(X))
        for j in range(len(self.labels_)):
            best, best_f1 = self.centers_[j], -1.0
            for center in np.arange(0.20, 0.70, 0.01):
                predicted = (similarity[:, j] >= center) | cue_hits[:, j]
                tp = np.sum(predicted & Y[:, j])
                f1 = 2 * tp / max(1, predicted.sum() + Y[:, j].sum())
                if f1 > best_f1:
                    best, best_f1 = center, f1
            self.centers_[j] = best

    # -- scoring ----------------------------------------------------------
    def _label_scores(self, vectors: np.ndarray) -> np.ndarray:
        """(n, L): mean of the top-k prototype similarities per label."""
        if len(vectors) == 0:
            return np.zeros((0, len(self.labels_)), dtype=np.float32)
        sims = vectors @ self.prototypes_.T
        out = np.empty((len(vectors), len(self.labels_)), dtype=np.float32)
        for j in range(len(self.labels_)):
            columns = sims[:, self.prototype_label_ == j]
            k = min(self.top_k, columns.shape[1])
            out[:, j] = np.sort(columns, axis=1)[:, -k:].mean(axis=1)
        return out

    def sentence_similarity(self, X: Features) -> np.ndarray:
        return X.memo("sentence-similarity", self, lambda: self._label_scores(X.sentence_embeddings))

    def similarity(self, X: Features) -> np.ndarray:
        """(n, L): the best of the whole comment and each of its sentences."""
        return X.memo("similarity", self, lambda: self._similarity(X))

    def _similarity(self, X: Features) -> np.ndarray:
        scores = self._label_scores(X.embeddings)
        if len(X.sentence_owner):
            np.maximum.at(scores, X.sentence_owner, self.sentence_similarity(X))
        return scores

    def _cue_matrix(self, matches: list[dict[str, list[tuple[int, str]]]]) -> np.ndarray:
        hits = np.zeros((len(matches), len(self.labels_)), dtype=bool)
        for i, found in enumerate(matches):
            for key in found:
                hits[i, self.labels_.index(key)] = True
        return hits

    def predict_proba(self, X: Features) -> np.ndarray:
        proba = _sigmoid((self.similarity(X) - self.centers_) / self.scale)
        cue_hits = self._cue_matrix(self.matcher_.match(X))
        return np.where(cue_hits, np.maximum(proba, self.cue_probability), proba).astype(np.float32)

    def predict(self, X: Features) -> np.ndarray:
        return self.predict_proba(X) >= self.thresholds_

    def explain(self, X: Features, proba: np.ndarray, thresholds: np.ndarray | None = None) -> list[Evidence]:
        """The sentence and cue phrases behind each comment's strongest label."""
        thresholds = self.thresholds_ if thresholds is None else thresholds
        matches = self.matcher_.match(X)
        sentence_scores = self.sentence_similarity(X)
        sentence_rows: dict[int, list[int]] = {}
        for row, owner in enumerate(X.sentence_owner):
            sentence_rows.setdefault(int(owner), []).append(row)
        out = []
        for i, found in enumerate(matches):
            cues = {key: list(dict.fromkeys(p for _, p in hits)) for key, hits in found.items()}
            predicted = np.flatnonzero(proba[i] >= thresholds)
            if len(predicted) == 0:
                out.append(Evidence(cues=cues))
                continue
            j = int(predicted[np.argmax(proba[i, predicted])])
            key = self.labels_[j]
            sentences = X.sentences(i)
            if key in found:
                sentence = sentences[found[key][0][0]]
            elif i in sentence_rows:
                sentence = sentences[int(np.argmax(sentence_scores[sentence_rows[i], j]))]
            else:
                sentence = X.texts[i]
            out.append(Evidence(sentence=sentence, label=key, cues=cues))
        return out


# ----------------------------------------------------------------- tone

TONES = ("positive", "negative", "mixed", "neutral")


@lru_cache(maxsize=1)
def _tone_lexicon() -> dict:
    return yaml.safe_load((data_dir() / "tone_lexicon.yaml").read_text(encoding="utf-8"))


class LexiconToneClassifier:
    """Tone from a bilingual polarity lexicon with negation, per sentence.

    A comment with judging sentences of both polarities is ``mixed``; one with
    none is ``neutral``. ``predict_proba`` returns a soft version over
    :data:`TONES` so a trained tone head can replace it.
    """

    name = "lexicon-tone"
    version = "1.0"

    def __init__(self, negation_window: int = 3, mixed_ratio: float = 0.34) -> None:
        self.negation_window = negation_window
        self.mixed_ratio = mixed_ratio

    def fit(self, X: Features | None = None, y: list[str] | None = None) -> LexiconToneClassifier:
        lexicon = _tone_lexicon()
        self.classes_ = list(TONES)
        self.lexicon_ = {
            language: {part: TermSet([str(w).lower() for w in lexicon[language][part]]) for part in lexicon[language]}
            for language in lexicon
        }
        # (language, word, lemma) -> (negator, positive, negative): survey
        # comments repeat their words, so each is looked up once.
        self.polarity_cache_: dict[tuple[str, str, str], tuple[bool, bool, bool]] = {}
        return self

    def _polarity(self, language: str, word: str, lemma: str) -> tuple[bool, bool, bool]:
        key = (language, word, lemma)
        found = self.polarity_cache_.get(key)
        if found is None:
            lexicon = self.lexicon_.get(language) or self.lexicon_["en"]
            if len(self.polarity_cache_) > 500_000:  # bounded memory
                self.polarity_cache_.clear()
            found = self.polarity_cache_[key] = (
                lexicon["negators"].hit(word, lemma),
                lexicon["positive"].hit(word, lemma),
                lexicon["negative"].hit(word, lemma),
            )
        return found

    def sentence_polarity(self, tokens: list[tuple[str, str, bool, bool]], language: str) -> tuple[float, float]:
        positive = negative = 0.0
        flip_until = -1
        for k, (word, lemma, _, _) in enumerate(tokens):
            is_negator, is_positive, is_negative = self._polarity(language, word, lemma)
            flipped = k <= flip_until
            if is_positive:
                if flipped:
                    negative += 1
                else:
                    positive += 1
            elif is_negative and not is_negator:
                if flipped:
                    positive += 0.5  # "not bad" is faint praise
                else:
                    negative += 1
            if is_negator:
                if is_negative and not any(
                    self._polarity(language, w, m)[1] for w, m, _, _ in tokens[k + 1 : k + 1 + self.negation_window]
                ):
                    negative += 1  # "nobody", "never" on their own
                flip_until = k + self.negation_window
        return positive, negative

    def predict_proba(self, X: Features) -> np.ndarray:
        return X.memo("lexicon-tone", self, lambda: self._predict_proba(X))

    def _predict_proba(self, X: Features) -> np.ndarray:
        out = np.zeros((len(X), len(TONES)), dtype=np.float32)
        for i, (language, processed) in enumerate(zip(X.languages, X.processed)):
            positive_sentences = negative_sentences = 0.0
            for tokens in processed.tokens:
                pos, neg = self.sentence_polarity(tokens, language)
                if pos > neg:
                    positive_sentences += 1
                elif neg > pos:
                    negative_sentences += 1
                elif pos and neg:
                    positive_sentences += 0.5
                    negative_sentences += 0.5
            total = positive_sentences + negative_sentences
            if total == 0:
                out[i] = [0.1, 0.1, 0.05, 0.75]
                continue
            share_positive = positive_sentences / total
            minority = min(share_positive, 1 - share_positive)
            mixed = 1.0 if minority >= self.mixed_ratio else minority / self.mixed_ratio * 0.5
            rest = 1.0 - mixed * 0.8
            out[i] = [rest * share_positive, rest * (1 - share_positive), mixed * 0.8, 0.0]
            out[i] /= out[i].sum()
        return out

    def predict(self, X: Features) -> list[str]:
        return [TONES[j] for j in self.predict_proba(X).argmax(axis=1)]


_SPLIT = re.compile(r"\s*;\s*")


def parse_label_cell(value: object) -> list[str]:
    """'transparency;reliability' (or a list) -> ['transparency', 'reliability']."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part for part in _SPLIT.split(str(value).strip()) if part]


def _register() -> None:
    from .registry import register

    register("label_classifier", "zero-shot")(
        lambda encoder, taxonomy=None, model=None, **kw: ZeroShotLabelClassifier(encoder, taxonomy, **kw)
    )
    register("tone_classifier", "lexicon")(
        lambda encoder=None, taxonomy=None, model=None, **kw: LexiconToneClassifier(**kw)
    )


_register()
