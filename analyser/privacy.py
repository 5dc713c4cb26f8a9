"""Privacy of groups: no breakdown that could identify a respondent.

As employee-survey tools do, a group (team, department...) is shown only when
at least ``min_group_size`` people answered in it (default 5), and quotes of a
group only from ``min_quote_size`` people (default 10). A suppressed group is
counted and listed as suppressed, never merged into another group silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .errors import AnalyserError

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
