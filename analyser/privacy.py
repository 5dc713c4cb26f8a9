"""Privacy of groups: no breakdown that could identify a respondent.

As employee-survey tools do, a group (team, department...) is shown only when
at least ``min_group_size`` people answered in it (default 5), and quotes of a
group only from ``min_quote_size`` people (default 10). A suppressed group is
counted and listed as suppressed, never merged into another group silently.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd
import yaml

from .errors import AnalyserError
from .paths import data_dir

DEFAULT_MIN_GROUP_SIZE = 5
DEFAULT_MIN_QUOTE_SIZE = 10


@dataclass
class GroupRow:
    group: str
    respondents: int
    suppressed: bool
    quotes_allowed: bool
    comments: int = 0
    # Per label key: number of comments and how many of them are negative;
    # empty for a suppressed group.
    label_counts: dict[str, int] = field(default_factory=dict)
    label_negative: dict[str, int] = field(default_factory=dict)
    tone_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class GroupBreakdown:
    column: str
    min_group_size: int
    min_quote_size: int
    rows: list[GroupRow]

    @property
    def shown(self) -> list[GroupRow]:
        return [r for r in self.rows if not r.suppressed]

    @property
    def suppressed(self) -> list[GroupRow]:
        return [r for r in self.rows if r.suppressed]

    def allows_quotes(self, group: str) -> bool:
        return any(r.group == group and r.quotes_allowed for r in self.rows)


def respondents(frame: pd.DataFrame) -> int:
    """People, not comments: with several open questions one row holds several comments."""
    return int(frame["row"].nunique()) if "row" in frame else len(frame)


def group_breakdown(
    comments: pd.DataFrame,
    column: str,
    label_keys: list[str],
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    min_quote_size: int = DEFAULT_MIN_QUOTE_SIZE,
) -> GroupBreakdown:
    if column not in comments.columns:
        raise AnalyserError(
            f"There is no group column '{column}'.",
            f"Choose one of: {', '.join(c for c in comments.columns if not c.startswith('score_'))}.",
        )
    if min_group_size < 1 or min_quote_size < min_group_size:
        raise AnalyserError(
            "The minimum group size must be at least 1 and the minimum for quotes at least as large.",
            "For example --min-group-size 5 (quotes from 10).",
        )
    from .pipeline import LABELLED_STATUSES

    rows = []
    groups = comments[column].fillna("").astype(str).replace("", "(no value)")
    for group, frame in comments.groupby(groups, sort=True):
        people = respondents(frame)
        row = GroupRow(
            group=str(group),
            respondents=people,
            suppressed=people < min_group_size,
            quotes_allowed=people >= min_quote_size,
        )
        if not row.suppressed:
            labelled = frame[frame["status"].isin(LABELLED_STATUSES)]
            row.comments = len(labelled)
            keys = (labelled["dimensions"] + ";" + labelled["areas"]).str.split(";")
            negative = labelled["tone"] == "negative"
            for key in label_keys:
                has = keys.map(lambda ks, k=key: k in ks)
                row.label_counts[key] = int(has.sum())
                row.label_negative[key] = int((has & negative).sum())
            row.tone_counts = {str(k): int(v) for k, v in labelled["tone"].value_counts().items()}
        rows.append(row)
    return GroupBreakdown(column=column, min_group_size=min_group_size, min_quote_size=min_quote_size, rows=rows)


# ------------------------------------------------------------------ redaction
# Before a comment is sent to a language model, whatever could identify a
# person is replaced by a placeholder. Patterns cover what has a shape; names
# are caught after a title or role word, from the list in data/names.yaml, and
# from terms the caller adds (the values of the group column, say).

_PLACEHOLDERS = {
    "email": "[EMAIL]",
    "url": "[URL]",
    "iban": "[IBAN]",
    "phone": "[PHONE]",
    "employee_number": "[ID]",
    "name": "[NAME]",
    "term": "[REDACTED]",
}
_NAME_WORD = r"[A-Z\u00c0-\u00de][a-z\u00df-\u00ff'\-]+"
_TUSSENVOEGSEL = r"(?:(?:van|de|der|den|ter|ten|te|het|'t|op|in|la|le|du|di)\s+){0,3}"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b")),
    ("url", re.compile(r"\b(?:https?://|www\.)\S+?(?=[.,;:!?)]*(?:\s|$))", re.IGNORECASE)),
    ("iban", re.compile(r"\b[A-Z]{2}\d{2}\s?(?:[A-Z0-9]{4}\s?){2,7}[A-Z0-9]{1,4}\b")),
    (
        "employee_number",
        re.compile(
            r"\b(?:personeelsnummer|personeelsnr\.?|medewerkernummer|werknemersnummer|employee\s+(?:number|no\.?|id)|"
            r"staff\s+(?:number|no\.?|id)|emp\.?\s*(?:no|nr)\.?|p-?nr\.?)\s*[:#]?\s*[A-Z]{0,3}\d{3,}\b",
            re.IGNORECASE,
        ),
    ),
    # +31 6 12345678, 06-12345678, 020 123 4567, (020) 1234567, +44 20 7946 0958
    ("phone", re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s\-]?(?:\(0\))?|0)[\d\s\-()]{7,14}\d(?!\w)")),
    # A name right after a title or a role word: "meneer Jansen", "Mr Smith", "teamleider Anja de Vries".
    (
        "name",
        re.compile(
            r"\b(?P<title>(?:[Mm]eneer|[Mm]evrouw|[Dd]hr\.|[Mm]w\.|[Mm]evr\.|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|[Dd]okter|"
            r"[Mm]anager|[Tt]eamleider|[Ll]eidinggevende|[Cc]ollega|[Cc]olleague|[Bb]oss|[Dd]irecteur|[Dd]irector|"
            r"[Ss]upervisor|[Tt]eamlead|HR-adviseur|[Aa]fdelingshoofd)\s+)"
            + rf"{_NAME_WORD}(?:\s+{_TUSSENVOEGSEL}{_NAME_WORD})?"
        ),
    ),
]


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS as EN
    from spacy.lang.nl.stop_words import STOP_WORDS as NL

    return frozenset(EN | NL)


def _after_title(placeholder: str):  # type: ignore[no-untyped-def]
    """Keep the title; replace the name after it unless that word is a capitalised stop word ("Is", "The")."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(0)[len(match.group("title")) :]
        if name.split()[0].lower() in _stop_words():
            return match.group(0)
        return match.group("title") + placeholder

    return replace


@lru_cache(maxsize=1)
def _given_names() -> re.Pattern[str]:
    raw = yaml.safe_load((data_dir() / "names.yaml").read_text(encoding="utf-8"))
    names = sorted({str(n) for n in raw.get("names", [])}, key=len, reverse=True)
    alternatives = "|".join(re.escape(n) for n in names)
    # A listed given name, with the surname that follows it if it is capitalised.
    return re.compile(rf"\b(?:{alternatives})\b(?:\s+{_TUSSENVOEGSEL}{_NAME_WORD})?")


@dataclass
class Redactor:
    """Replaces personal data in a text by placeholders and counts what it replaced."""

    extra_terms: tuple[str, ...] = ()  # e.g. team or location names that must not leave the machine
    use_name_list: bool = True

    def __post_init__(self) -> None:
        terms = sorted({t.strip() for t in self.extra_terms if len(t.strip()) >= 3}, key=len, reverse=True)
        self._terms = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in terms) + r")(?!\w)", re.IGNORECASE)
            if terms
            else None
        )

    def redact(self, text: str) -> tuple[str, Counter[str]]:
        counts: Counter[str] = Counter()

        def substitute(kind: str, pattern: re.Pattern[str], value: str) -> str:
            placeholder = _PLACEHOLDERS[kind]
            # A title or role word stays; only the name after it goes.
            replacement = _after_title(placeholder) if "title" in pattern.groupindex else placeholder
            before = value.count(placeholder)
            value = pattern.sub(replacement, value)
            n = value.count(placeholder) - before
            if n:
                counts[kind] += n
            return value

        for kind, pattern in _PATTERNS:
            text = substitute(kind, pattern, text)
        if self.use_name_list:
            text = substitute("name", _given_names(), text)
        if self._terms is not None:
            text = substitute("term", self._terms, text)
        return text, counts
