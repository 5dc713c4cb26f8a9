"""Text normalisation and linguistic processing (spaCy, per language).

``normalise`` turns a raw cell into clean text (HTML entities, bullets,
invisible characters, runs of white space). ``TextProcessor`` runs a blank
spaCy tokenizer per language (spaCy's sentencizer rule and line breaks as
sentence ends, lemmas from spaCy's lookup tables with simplemma where the table
has no entry)
and returns sentences, tokens, lemmas and stop-word flags.
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .paths import data_dir

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_NUMBERED = re.compile(r"^\s*(\d{1,2}|[a-zA-Z])[.)]\s+")
_TAGS = re.compile(r"<\s*(br|/p|p|/li|li|/div|div)\s*/?\s*>", re.IGNORECASE)
_WORD = re.compile(r"\w", re.UNICODE)


@lru_cache(maxsize=1)
def _rules() -> tuple[frozenset[str], str]:
    raw = yaml.safe_load((data_dir() / "text_rules.yaml").read_text(encoding="utf-8"))
    return frozenset(str(p) for p in raw["placeholders"]), str(raw["bullets"])


def normalise(raw: str) -> str:
    """Clean one comment; keeps list items and paragraphs as separate lines."""
    if not raw:
        return ""
    text = str(raw)
    for _ in range(2):  # exports sometimes escape twice: "&amp;amp;"
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    text = _TAGS.sub("\n", text)
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    _, bullets = _rules()
    lines = []
    for line in text.split("\n"):
        line = _SPACES.sub(" ", line).strip()
        stripped = line.lstrip(bullets).strip()
        if stripped != line and stripped:
            line = stripped  # a bulleted item
        elif _NUMBERED.match(line) and len(line) > 4:
            line = _NUMBERED.sub("", line)
        if line:
            lines.append(line)
    return "\n".join(lines)


def is_placeholder(text: str) -> bool:
    """True for answers that carry no comment: '-', 'n.v.t.', 'nothing to add'."""
    folded = " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())
    placeholders, _ = _rules()
    return folded in placeholders or not _WORD.search(text) or folded.isdigit()


# ------------------------------------------------------------------- spaCy


@dataclass
class ProcessedText:
    """The linguistic view of one comment."""

    sentences: list[str]
    # Per sentence: (token lower-case, lemma, is stop word, is alphabetic).
    tokens: list[list[tuple[str, str, bool, bool]]]

    def lemmas(self) -> list[str]:
        return [lemma for sentence in self.tokens for _, lemma, _, _ in sentence]

    def content_lemmas(self) -> list[str]:
        return [lemma for sentence in self.tokens for _, lemma, stop, alpha in sentence if alpha and not stop]


def _import_spacy():  # type: ignore[no-untyped-def]
    """Import spaCy without letting thinc import torch.

    thinc (spaCy's machine-learning layer) imports torch when it is installed,
    which takes more than a second, and the blank pipelines here never use
    it. A ``None`` entry in ``sys.modules`` makes that import fail quietly
    inside thinc; it is removed again, so torch stays importable for the
    transformers encoder. If torch is already loaded, nothing changes.
    """
    import sys

    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        import spacy
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return spacy


@lru_cache(maxsize=4)
def load_pipeline(language: str):  # type: ignore[no-untyped-def]
    """A blank spaCy pipeline for Dutch or English: its tokenizer, stop words and lexical flags.

    Sentences are found by :func:`sentence_starts` and lemmas by
    :func:`lemma_table`, both over token arrays: spaCy's own sentencizer and
    ``Doc.text`` make a Python object per token, which was a fifth of the
    labelling time.
    """
    spacy = _import_spacy()
    return spacy.blank(language)


@lru_cache(maxsize=1)
def _sentence_end_characters() -> frozenset[str]:
    from spacy.pipeline.sentencizer import Sentencizer

    return frozenset(Sentencizer.default_punct_chars)


def sentence_starts(text: str, orths: list[int], is_punct: list[int], offsets: list[int], strings) -> list[bool]:  # type: ignore[no-untyped-def]
    """Which tokens start a sentence: spaCy's sentencizer rule, plus a line break ends a sentence.

    The rule is spaCy's ``Sentencizer`` with its default characters: after a
    sentence-ending character ('.', '?', '!', ...), the next token that is no
    punctuation starts a sentence. A line break also ends one, because list
    items rarely end in a full stop.
    """
    n = len(orths)
    starts = [False] * n
    if n == 0:
        return starts
    ends = _sentence_end_characters()
    starts[0] = True
    seen_end = False
    for i in range(n):
        in_ends = strings[orths[i]] in ends
        if seen_end and not is_punct[i] and not in_ends:
            starts[i] = True
            seen_end = False
        elif in_ends:
            seen_end = True
    position = text.find("\n")
    while position >= 0:
        k = bisect_right(offsets, position)  # the token after the one holding the line break
        if 0 < k < n:
            starts[k] = True
        position = text.find("\n", position + 1)
    return starts


@lru_cache(maxsize=4)
def lemma_table(language: str) -> Mapping[str, str]:
    """spaCy's lemma lookup table (spacy-lookups-data), read directly.

    The lemmatizer pipe would look up every token again, a Token object per
    word, while ``TextProcessor`` does its own lookup with simplemma as the
    fallback. The table is read as a plain dict from the package's JSON file
    (0.2 s for Dutch and English together, against 0.8 s through spaCy's
    ``Lookups``, which hashes every key into a Bloom-filtered table); spaCy's
    loader is the fallback for a package version laid out differently.
    """
    import gzip
    import json
    from importlib.util import find_spec

    spec = find_spec("spacy_lookups_data")
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "data" / f"{language}_lemma_lookup.json.gz"
        if path.is_file():
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                table = json.load(handle)
            if isinstance(table, dict):
                return table
    _import_spacy()
    from spacy.lookups import load_lookups

    return load_lookups(language, ["lemma_lookup"]).get_table("lemma_lookup")


# Loading may run on a background thread (``Analyser.fit``) while the main
# thread reaches its first comment: one lock, so nothing is read twice.
_LOADING = threading.Lock()
_LOADED: set[str] = set()


def preload(languages: tuple[str, ...] = ("nl", "en")) -> None:
    """Read a language's tokenizer, lemma table and simplemma dictionary now (the first text would)."""
    import simplemma

    for language in languages:
        if language in _LOADED:
            continue
        with _LOADING:
            if language in _LOADED:
                continue
            load_pipeline(language)
            lemma_table(language)
            simplemma.lemmatize("test", lang=language)
            _LOADED.add(language)


class TextProcessor:
    """Sentences, lemmas and stop words for Dutch and English comments."""

    languages = ("nl", "en")

    def __init__(self, max_chars: int = 20000, batch_size: int = 256) -> None:
        self.max_chars = max_chars
        self.batch_size = batch_size

    @staticmethod
    @lru_cache(maxsize=200_000)
    def _lemma(language: str, lower: str, table_lemma: str) -> str:
        if table_lemma and table_lemma != lower:
            return table_lemma
        import simplemma

        return simplemma.lemmatize(lower, lang=language)

    def process(self, texts: list[str], languages: list[str]) -> list[ProcessedText]:
        _import_spacy()
        from spacy.attrs import IDX, IS_ALPHA, IS_PUNCT, IS_SPACE, IS_STOP, LENGTH, ORTH

        out: list[ProcessedText | None] = [None] * len(texts)
        for language in self.languages:
            idx = [i for i, lang in enumerate(languages) if lang == language]
            if not idx:
                continue
            preload((language,))
            nlp = load_pipeline(language)
            table = lemma_table(language)
            strings = nlp.vocab.strings
            # One entry per distinct word form: (lower case, lemma, is stop word, is alphabetic).
            words: dict[int, tuple[str, str, bool, bool]] = {}
            clipped = [texts[i][: self.max_chars] for i in idx]
            docs = nlp.tokenizer.pipe(clipped, batch_size=self.batch_size)
            for i, text, doc in zip(idx, clipped, docs):
                # Token attributes as one array per comment: no Token objects.
                rows = doc.to_array([ORTH, IS_STOP, IS_ALPHA, IS_SPACE, IS_PUNCT, IDX, LENGTH]).tolist()
                columns = list(zip(*rows)) if rows else [(), (), (), (), (), (), ()]
                starts = sentence_starts(text, list(columns[0]), list(columns[4]), list(columns[5]), strings)
                sentences, tokens = [], []
                begin = 0
                for k in range(1, len(rows) + 1):
                    if k < len(rows) and not starts[k]:
                        continue
                    first, last = rows[begin], rows[k - 1]
                    sentence = text[first[5] : last[5] + last[6]].strip()
                    if sentence:
                        sentences.append(sentence)
                        entry = []
                        for orth, stop, alpha, space, _, _, _ in rows[begin:k]:
                            if space:
                                continue
                            word = words.get(orth)
                            if word is None:
                                lower = strings[orth].lower()
                                word = words[orth] = (
                                    lower,
                                    self._lemma(language, lower, table.get(lower, "")),
                                    bool(stop),
                                    bool(alpha),
                                )
                            entry.append(word)
                        tokens.append(entry)
                    begin = k
                out[i] = ProcessedText(sentences=sentences or [texts[i]], tokens=tokens or [[]])
        for i, item in enumerate(out):
            if item is None:  # a language without a pipeline: the text as one sentence
                out[i] = ProcessedText(
                    sentences=[texts[i]],
                    tokens=[[(w.lower(), w.lower(), False, w.isalpha()) for w in texts[i].split()]],
                )
        return out  # type: ignore[return-value]
