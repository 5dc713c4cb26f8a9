"""The action plan: where trust is at stake and what a leader can do this week.

Dimensions are ranked by how much trust is at stake in the comments, with
negative signals weighing double ("vertrouwen komt te voet en gaat per paard":
trust arrives on foot and leaves on horseback):

    stake(d)    = (2 * negative + mixed - 0.5 * positive) / labelled comments
    at_risk(d)  = negative or mixed comments on d that also name a benefit area / labelled comments
    priority(d) = max(0, stake) + 0.5 * at_risk

For each dimension with trust at stake, the playbook's actions (``data/actions.yaml``)
are matched to what people wrote: an action fits when its signal words occur
in the negative comments of that dimension; every suggestion names the themes
and comment ids that motivated it. Dimensions where most comments are
positive become strengths, with what to keep doing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .classification import TermSet
from .errors import ConfigurationError
from .paths import data_dir
from .pipeline import LABELLED_STATUSES, AnalysisResult
from .text import TextProcessor
from .themes import Theme

NEGATIVE_WEIGHT = 2.0
MIXED_WEIGHT = 1.0
POSITIVE_WEIGHT = 0.5
RISK_WEIGHT = 0.5
ACTIONS_PER_DIMENSION = 3
MIN_COMMENTS_FOR_STRENGTH = 3


@dataclass(frozen=True)
class Action:
    id: str
    dimension: str
    behaviours: tuple[str, ...]
    title: dict[str, str]
    steps: dict[str, str]
    tone: str
    signals: dict[str, TermSet]
    signal_words: dict[str, tuple[str, ...]]
    protects: tuple[str, ...]
    success_signal: dict[str, str]


@dataclass(frozen=True)
class Playbook:
    version: str
    behaviours: dict[str, dict[str, str]]
    keep_doing: dict[str, dict[str, str]]
    actions: tuple[Action, ...]

    def for_dimension(self, key: str) -> list[Action]:
        return [a for a in self.actions if a.dimension == key]


@lru_cache(maxsize=4)
def _load(path: str, mtime: int) -> Playbook:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    actions = []
    for item in raw.get("actions", []):
        try:
            signals = item["applies_when"].get("signals", {})
            actions.append(
                Action(
                    id=str(item["id"]),
                    dimension=str(item["dimension"]),
                    behaviours=tuple(item.get("behaviours", [])),
                    title=dict(item["title"]),
                    steps=dict(item["steps"]),
                    tone=str(item["applies_when"].get("tone", "any")),
                    signals={lang: TermSet([str(w).lower() for w in words]) for lang, words in signals.items()},
                    signal_words={lang: tuple(str(w).lower() for w in words) for lang, words in signals.items()},
                    protects=tuple(item.get("protects", [])),
                    success_signal=dict(item["success_signal"]),
                )
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigurationError(
                f"Action '{item.get('id', '?')}' in {path} lacks {exc}.",
                "Every action needs id, dimension, title, steps, applies_when and success_signal.",
            ) from exc
    return Playbook(
        version=str(raw.get("version", "0")),
        behaviours={b["key"]: dict(b["name"]) for b in raw.get("behaviours", [])},
        keep_doing={k: dict(v) for k, v in (raw.get("keep_doing") or {}).items()},
        actions=tuple(actions),
    )


def load_playbook(path: str | Path | None = None) -> Playbook:
    path = Path(path) if path else data_dir() / "actions.yaml"
    if not path.is_file():
        raise ConfigurationError(f"The action playbook {path} does not exist.", "Restore data/actions.yaml.")
    return _load(str(path.resolve()), path.stat().st_mtime_ns)


# ---------------------------------------------------------------- the plan


@dataclass
class DimensionStanding:
    key: str
    comments: int
    share: float  # of the labelled comments in scope
    tone_counts: dict[str, int]
    balance: float  # (positive - 2 * negative) / comments, from -2 to 1
    stake: float
    at_risk: float
    priority: float
    areas_at_risk: dict[str, int]


@dataclass
class SuggestedAction:
    action: Action
    dimension: str
    fit: int  # comments whose words match the action's signals
    matched_signals: list[str]
    themes: list[tuple[str, int]]  # (label key, theme index)
    comment_ids: list[str]
    general: bool = False  # no signal matched: the dimension's general first step


@dataclass
class Strength:
    dimension: str
    positive_share: float
    keep_doing: dict[str, str]
    themes: list[tuple[str, int]]
    comment_ids: list[str]
    actions: list[SuggestedAction] = field(default_factory=list)  # how to build on it


@dataclass
class ActionPlan:
    scope: str
    labelled_comments: int
    standings: list[DimensionStanding]  # ranked, most at stake first
    actions: list[SuggestedAction]
    strengths: list[Strength]
    weights: dict[str, float] = field(
        default_factory=lambda: {
            "negative": NEGATIVE_WEIGHT,
            "mixed": MIXED_WEIGHT,
            "positive": -POSITIVE_WEIGHT,
            "risk": RISK_WEIGHT,
        }
    )


def rank_dimensions(comments: pd.DataFrame, dimension_keys: list[str], area_keys: list[str]) -> list[DimensionStanding]:
    """Standings of the dimensions in a set of labelled comments, most at stake first."""
    total = max(1, len(comments))
    dims = comments["dimensions"].fillna("").str.split(";")
    areas = comments["areas"].fillna("").str.split(";")
    tones = comments["tone"].fillna("")
    standings = []
    for key in dimension_keys:
        has = dims.map(lambda ks, k=key: k in ks).to_numpy()
        n = int(has.sum())
        counts = Counter(tones[has])
        tone_counts = {t: int(counts.get(t, 0)) for t in ("positive", "negative", "mixed", "neutral")}
        negative, mixed, positive = tone_counts["negative"], tone_counts["mixed"], tone_counts["positive"]
        troubled = has & tones.isin(["negative", "mixed"]).to_numpy()
        risk_counts = Counter(a for keys in areas[troubled] for a in keys if a in area_keys)
        with_area = int(sum(1 for keys in areas[troubled] if any(a in area_keys for a in keys)))
        stake = (NEGATIVE_WEIGHT * negative + MIXED_WEIGHT * mixed - POSITIVE_WEIGHT * positive) / total
        at_risk = with_area / total
        standings.append(
            DimensionStanding(
                key=key,
                comments=n,
                share=round(n / total, 4),
                tone_counts=tone_counts,
                balance=round((positive - NEGATIVE_WEIGHT * negative) / n, 4) if n else 0.0,
                stake=round(stake, 4),
                at_risk=round(at_risk, 4),
                priority=round(max(0.0, stake) + RISK_WEIGHT * at_risk, 4),
                areas_at_risk=dict(risk_counts.most_common()),
            )
        )
    return sorted(standings, key=lambda s: (-s.priority, -s.comments, s.key))


def _theme_refs(themes: dict[str, list[Theme]], key: str, ids: set[str]) -> list[tuple[str, int]]:
    scored = []
    for theme in themes.get(key, []):
        overlap = len(ids & set(theme.comment_ids))
        if overlap:
            scored.append((-overlap, theme.index))
    return [(key, index) for _, index in sorted(scored)]


def _match(
    actions: list[Action], members: list[int], words: list[set[str]], languages: list[str]
) -> list[tuple[int, Action, list[int], Counter[str]]]:
    """Each action with the comments whose words match its signals, best fit first."""
    candidates = []
    for action in actions:
        matched, hits = [], Counter()
        for i in members:
            terms = action.signals.get(languages[i])
            found = [w for w in words[i] if terms and terms.hit(w, w)]
            if found:
                matched.append(i)
                hits.update(found)
        candidates.append((len(matched), action, matched, hits))
    # Ties go to the playbook's order of ids, so a plan is the same every run.
    return sorted(candidates, key=lambda c: (-c[0], c[1].id))


def plan_actions(
    result: AnalysisResult,
    themes: dict[str, list[Theme]],
    scope: pd.Series | np.ndarray | None = None,
    scope_name: str = "all comments",
    playbook: Playbook | None = None,
) -> ActionPlan:
    """Rank the dimensions and pick the playbook actions that fit the comments in scope."""
    playbook = playbook or load_playbook()
    comments = result.comments
    mask = comments["status"].isin(LABELLED_STATUSES).to_numpy().copy()
    if scope is not None:
        mask &= np.asarray(scope, dtype=bool)
    labelled = comments[mask]
    taxonomy = result.taxonomy
    standings = rank_dimensions(labelled, [d.key for d in taxonomy.dimensions], [a.key for a in taxonomy.areas])
    processed = TextProcessor().process(labelled["text"].tolist(), labelled["language"].tolist())
    words = [
        {lower for s in p.tokens for lower, _, _, _ in s} | {lemma for s in p.tokens for _, lemma, _, _ in s}
        for p in processed
    ]
    ids = labelled["id"].astype(str).tolist()
    languages = labelled["language"].tolist()
    tones = labelled["tone"].tolist()
    dims = labelled["dimensions"].fillna("").str.split(";").tolist()
    suggestions: list[SuggestedAction] = []
    strengths: list[Strength] = []
    for standing in standings:
        key = standing.key
        members = [i for i in range(len(ids)) if key in dims[i]]
        troubled = [i for i in members if tones[i] in ("negative", "mixed")]
        positive = [i for i in members if tones[i] == "positive"]
        if standing.comments >= MIN_COMMENTS_FOR_STRENGTH and len(positive) / standing.comments >= 0.5:
            positive_actions = [a for a in playbook.for_dimension(key) if a.tone == "positive"]
            builds = [c for c in _match(positive_actions, positive, words, languages) if c[0] > 0][:1]
            strengths.append(
                Strength(
                    dimension=key,
                    positive_share=round(len(positive) / standing.comments, 4),
                    keep_doing=playbook.keep_doing.get(key, {}),
                    themes=_theme_refs(themes, key, {ids[i] for i in positive}),
                    comment_ids=[ids[i] for i in positive[:5]],
                    actions=[
                        SuggestedAction(
                            action=action,
                            dimension=key,
                            fit=fit,
                            matched_signals=[w for w, _ in hits.most_common(6)],
                            themes=_theme_refs(themes, key, {ids[i] for i in matched}),
                            comment_ids=[ids[i] for i in matched],
                        )
                        for fit, action, matched, hits in builds
                    ],
                )
            )
        if standing.priority <= 0 or not troubled:
            continue
        fitting = [a for a in playbook.for_dimension(key) if a.tone in ("negative", "any")]
        candidates = _match(fitting, troubled, words, languages)
        chosen = [c for c in candidates if c[0] > 0][:ACTIONS_PER_DIMENSION]
        if not chosen and candidates:
            # Nothing specific matched: the dimension's first general step
            # (the playbook's first id), motivated by all its negative comments.
            fit, action, _, _ = candidates[0]
            chosen = [(0, action, troubled, Counter())]
        for fit, action, matched, hits in chosen:
            matched_ids = {ids[i] for i in matched}
            suggestions.append(
                SuggestedAction(
                    action=action,
                    dimension=key,
                    fit=fit,
                    matched_signals=[w for w, _ in hits.most_common(6)],
                    themes=_theme_refs(themes, key, matched_ids),
                    comment_ids=[ids[i] for i in matched],
                    general=fit == 0,
                )
            )
    return ActionPlan(
        scope=scope_name,
        labelled_comments=int(mask.sum()),
        standings=standings,
        actions=suggestions,
        strengths=strengths,
    )
