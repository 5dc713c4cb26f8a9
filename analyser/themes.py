"""Themes inside each dimension and area: what people are saying.

Within each label (and among labelled comments with no label: "other
topics") the comments are clustered on their embeddings (k-means with
``random_state``; the number of themes chosen by silhouette), each theme is
named by its key phrases (class-based TF-IDF over lemmas and two-word
phrases, language-aware stop words, per language) and gets its size, its
tone mix and up to three representative quotes (close to the theme's
centre, no near-duplicates). Quotes are verbatim: the comment, or for a long
comment the sentence that carried its label.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from itertools import pairwise

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from .classification import TONES
from .text import TextProcessor

OTHER = "other"
LONG_QUOTE = 320  # characters; a longer comment is quoted by its evidence sentence


@dataclass
class Quote:
    comment_id: str
    text: str  # a verbatim substring of the comment's text
    language: str


@dataclass
class Theme:
    label: str  # a label key, or "other"
    index: int
    size: int
    key_phrases: dict[str, list[str]]  # per language
    tone_counts: dict[str, int]
    quotes: list[Quote]
    comment_ids: list[str]
    languages: dict[str, int] = field(default_factory=dict)

    @property
    def negative_share(self) -> float:
        return self.tone_counts.get("negative", 0) / max(1, self.size)

    @property
    def positive_share(self) -> float:
        return self.tone_counts.get("positive", 0) / max(1, self.size)

    def name(self, language: str = "en") -> str:
        """Key phrases in the given language, else in the theme's main language.

        A theme whose comments share no phrase (each word used by one person
        only) is named as such rather than left blank.
        """
        phrases = self.key_phrases.get(language) or next((p for p in self.key_phrases.values() if p), [])
        if not phrases:
            from .reports import t

            return t("theme_no_shared_phrase", language)
        return ", ".join(phrases[:3])

    def to_dict(self) -> dict:
        return asdict(self)


class ThemeFinder:
    """Clusters the comments of each label into themes (stateless once set up)."""

    def __init__(
        self,
        max_themes: int = 6,
        min_theme_size: int = 3,
        n_phrases: int = 5,
        n_quotes: int = 3,
        random_state: int = 0,
    ) -> None:
        self.max_themes = max_themes
        self.min_theme_size = min_theme_size
        self.n_phrases = n_phrases
        self.n_quotes = n_quotes
        self.random_state = random_state

    # ----------------------------------------------------------- clustering
    def _cluster(self, vectors: np.ndarray) -> np.ndarray:
        n = len(vectors)
        top = min(self.max_themes, n // max(2, self.min_theme_size + 1))
        if top < 2:
            return np.zeros(n, dtype=int)
        best_labels, best_score = np.zeros(n, dtype=int), -1.0
        for k in range(2, top + 1):
            model = KMeans(n_clusters=k, n_init=4, random_state=self.random_state)
            labels = model.fit_predict(vectors)
            if np.bincount(labels).min() < self.min_theme_size:
                continue
            # A sample keeps this linear in the number of comments (silhouette is quadratic).
            score = silhouette_score(
                vectors, labels, metric="cosine", sample_size=min(n, 2000), random_state=self.random_state
            )
            if score > best_score + 1e-9:
                best_labels, best_score = labels, score
        # Weak structure: one theme says more than an arbitrary split.
        return best_labels if best_score >= 0.02 else np.zeros(n, dtype=int)

    # -------------------------------------------------------------- naming
    @staticmethod
    def _terms(processed_tokens: list[list[tuple[str, str, bool, bool]]]) -> list[str]:
        terms = []
        for sentence in processed_tokens:
            content = [lemma for _, lemma, stop, alpha in sentence if alpha and not stop and len(lemma) > 2]
            terms.extend(content)
            terms.extend(f"{a} {b}" for a, b in pairwise(content))
        return terms

    def _key_phrases(
        self, docs_terms: list[list[str]], clusters: np.ndarray, languages: list[str], idf: dict[str, dict[str, float]]
    ) -> dict[int, dict[str, list[str]]]:
        """Class-based TF-IDF per language: frequent in the theme, rare in the whole file.

        A term counts once per comment; its weight is the number of the
        theme's comments that use it times its inverse document frequency
        over all labelled comments in that language, so words everyone uses
        ("goed", "really") do not name a theme.
        """
        out: dict[int, dict[str, list[str]]] = {int(c): {} for c in set(clusters.tolist())}
        for language in sorted(set(languages)):
            weights = idf.get(language, {})
            for c in out:
                idx = [i for i, lang in enumerate(languages) if lang == language and clusters[i] == c]
                counts: Counter[str] = Counter()
                for i in idx:
                    counts.update(set(docs_terms[i]))
                scored = []
                for term, tf in counts.items():
                    if tf < 2 and len(idx) > 2:
                        continue  # a phrase one person used does not name a theme
                    scored.append((tf * weights.get(term, 1.0) * (1.3 if " " in term else 1.0), term))
                phrases: list[str] = []
                for _, term in sorted(scored, key=lambda x: (-x[0], x[1])):
                    # Skip a word already inside a chosen two-word phrase, and vice versa.
                    if any(set(term.split()) & set(p.split()) for p in phrases):
                        continue
                    phrases.append(term)
                    if len(phrases) == self.n_phrases:
                        break
                out[c][language] = phrases
        return out

    # -------------------------------------------------------------- quotes
    def _quotes(self, members: np.ndarray, vectors: np.ndarray, ids, texts, evidence, languages) -> list[Quote]:
        centre = vectors.mean(axis=0)
        order = np.argsort(-(vectors @ centre), kind="stable")
        chosen: list[int] = []
        for position in order:
            if any(float(vectors[position] @ vectors[other]) > 0.9 for other in chosen):
                continue  # near-duplicate of a quote already chosen
            chosen.append(int(position))
            if len(chosen) == self.n_quotes:
                break
        quotes = []
        for position in chosen:
            i = members[position]
            text = texts[i]
            if len(text) > LONG_QUOTE and evidence[i] and evidence[i] in text:
                text = evidence[i]
            quotes.append(Quote(comment_id=str(ids[i]), text=text, language=languages[i]))
        return quotes

    # ----------------------------------------------------------------- find
    def find(self, result, labels: list[str] | None = None) -> dict[str, list[Theme]]:  # type: ignore[no-untyped-def]
        """Themes per label key (and ``"other"``) for an :class:`AnalysisResult`."""
        from .pipeline import LABELLED_STATUSES

        comments = result.comments
        usable = comments["status"].isin(LABELLED_STATUSES).to_numpy().copy()
        if result.embeddings is not None:
            usable &= ~np.isnan(result.embeddings).any(axis=1)
        rows = np.flatnonzero(usable)
        ids = comments["id"].astype(str).to_numpy()
        texts = comments["text"].astype(str).to_numpy()
        evidence = comments["evidence"].fillna("").astype(str).to_numpy()
        languages = comments["language"].astype(str).tolist()
        tones = comments["tone"].astype(str).to_numpy()
        label_sets = [
            set(f"{d};{a}".split(";")) - {""} for d, a in zip(comments["dimensions"], comments["areas"], strict=True)
        ]
        processed = TextProcessor().process([texts[i] for i in rows], [languages[i] for i in rows])
        terms = {int(i): self._terms(p.tokens) for i, p in zip(rows, processed, strict=True)}
        idf: dict[str, dict[str, float]] = {}
        for language in set(languages[i] for i in rows):
            docs = [set(terms[int(i)]) for i in rows if languages[i] == language]
            frequency: Counter[str] = Counter()
            for doc in docs:
                frequency.update(doc)
            idf[language] = {t: math.log((1 + len(docs)) / (1 + f)) + 1 for t, f in frequency.items()}
        keys = labels if labels is not None else [*result.taxonomy.keys, OTHER]
        out: dict[str, list[Theme]] = {}
        for key in keys:
            if key == OTHER:
                members = np.array([i for i in rows if not label_sets[i]], dtype=int)
            else:
                members = np.array([i for i in rows if key in label_sets[i]], dtype=int)
            if len(members) == 0:
                out[key] = []
                continue
            vectors = result.embeddings[members]
            clusters = self._cluster(vectors)
            member_languages = [languages[i] for i in members]
            phrases = self._key_phrases([terms[int(i)] for i in members], clusters, member_languages, idf)
            themes = []
            for c in sorted(set(clusters.tolist())):
                inside = np.flatnonzero(clusters == c)
                theme_members = members[inside]
                tone_counts = Counter(tones[i] for i in theme_members)
                themes.append(
                    Theme(
                        label=key,
                        index=0,
                        size=len(theme_members),
                        key_phrases={lang: p for lang, p in phrases[int(c)].items() if p},
                        tone_counts={t: int(tone_counts.get(t, 0)) for t in TONES},
                        quotes=self._quotes(theme_members, vectors[inside], ids, texts, evidence, languages),
                        comment_ids=[str(ids[i]) for i in theme_members],
                        languages=dict(Counter(languages[i] for i in theme_members)),
                    )
                )
            # Largest theme first; ties broken by the first comment id, so runs agree.
            themes.sort(key=lambda t: (-t.size, t.comment_ids[0]))
            for index, theme in enumerate(themes, start=1):
                theme.index = index
            out[key] = themes
        return out
