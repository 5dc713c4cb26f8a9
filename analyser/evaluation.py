"""How well labels agree with careful human coders.

Per-label precision, recall and F1; macro-F1 over the ten labels per
language; tone accuracy; how often "no label" was right; and the label pairs
that are most often confused (a gold label missed while another was given).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np


@dataclass
class LabelScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Evaluation:
    n: int
    per_label: list[LabelScore]
    macro_f1: float
    macro_f1_by_language: dict[str, float]
    per_label_by_language: dict[str, list[LabelScore]]
    tone_accuracy: float | None
    tone_accuracy_by_language: dict[str, float] = field(default_factory=dict)
    no_label_precision: float = 0.0  # predicted "no label" and it was right
    no_label_recall: float = 0.0  # gold "no label" and it was found
    no_label_support: int = 0
    confused_pairs: list[tuple[str, str, int]] = field(default_factory=list)
    counts_by_language: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def _scores(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> list[LabelScore]:
    out = []
    for j, label in enumerate(labels):
        tp = int(np.sum(y_true[:, j] & y_pred[:, j]))
        predicted, actual = int(y_pred[:, j].sum()), int(y_true[:, j].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * tp / (predicted + actual) if predicted + actual else 0.0
        out.append(LabelScore(label, round(precision, 4), round(recall, 4), round(f1, 4), actual))
    return out


def _macro(scores: list[LabelScore]) -> float:
    present = [s.f1 for s in scores if s.support > 0]
    return round(float(np.mean(present)), 4) if present else 0.0


def evaluate_predictions(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    labels: list[str],
    languages: list[str],
    tones_true: list[str] | None = None,
    tones_pred: list[str] | None = None,
) -> Evaluation:
    y_true = np.asarray(y_true, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    languages_arr = np.asarray(languages)
    per_label = _scores(y_true, y_pred, labels)
    by_language = {}
    per_label_by_language = {}
    for language in sorted(set(languages)):
        mask = languages_arr == language
        per_label_by_language[language] = _scores(y_true[mask], y_pred[mask], labels)
        by_language[language] = _macro(per_label_by_language[language])
    tone_accuracy, tone_by_language = None, {}
    if tones_true is not None and tones_pred is not None:
        hits = np.array([t == p for t, p in zip(tones_true, tones_pred)])
        tone_accuracy = round(float(hits.mean()), 4) if len(hits) else 0.0
        tone_by_language = {
            language: round(float(hits[languages_arr == language].mean()), 4) for language in sorted(set(languages))
        }
    none_true = ~y_true.any(axis=1)
    none_pred = ~y_pred.any(axis=1)
    both = int(np.sum(none_true & none_pred))
    confused: Counter[tuple[str, str]] = Counter()
    for i in range(len(y_true)):
        missed = [labels[j] for j in np.flatnonzero(y_true[i] & ~y_pred[i])]
        extra = [labels[j] for j in np.flatnonzero(y_pred[i] & ~y_true[i])]
        for gold in missed:
            for given in extra:
                confused[(gold, given)] += 1
    return Evaluation(
        n=len(y_true),
        per_label=per_label,
        macro_f1=_macro(per_label),
        macro_f1_by_language=by_language,
        per_label_by_language=per_label_by_language,
        tone_accuracy=tone_accuracy,
        tone_accuracy_by_language=tone_by_language,
        no_label_precision=round(both / max(1, int(none_pred.sum())), 4),
        no_label_recall=round(both / max(1, int(none_true.sum())), 4),
        no_label_support=int(none_true.sum()),
        confused_pairs=[(a, b, n) for (a, b), n in confused.most_common(8)],
        counts_by_language={language: int(np.sum(languages_arr == language)) for language in sorted(set(languages))},
    )


def format_evaluation(evaluation: Evaluation, title: str = "") -> str:
    lines = [title] if title else []
    languages = list(evaluation.macro_f1_by_language)
    header = f"{'label':<22}{'precision':>10}{'recall':>8}{'F1':>7}{'n':>6}" + "".join(
        f"{'F1 ' + lang:>8}" for lang in languages
    )
    lines.append(header)
    for j, score in enumerate(evaluation.per_label):
        per_language = "".join(f"{evaluation.per_label_by_language[lang][j].f1:>8.2f}" for lang in languages)
        lines.append(
            f"{score.label:<22}{score.precision:>10.2f}{score.recall:>8.2f}{score.f1:>7.2f}{score.support:>6}{per_language}"
        )
    counts = ", ".join(f"{lang} {n}" for lang, n in evaluation.counts_by_language.items())
    lines.append("")
    lines.append(f"comments: {evaluation.n} ({counts})")
    lines.append(
        f"macro-F1 over the labels: {evaluation.macro_f1:.3f}  "
        + "  ".join(f"{lang}: {value:.3f}" for lang, value in evaluation.macro_f1_by_language.items())
    )
    if evaluation.tone_accuracy is not None:
        lines.append(
            f"tone accuracy: {evaluation.tone_accuracy:.3f}  "
            + "  ".join(f"{lang}: {value:.3f}" for lang, value in evaluation.tone_accuracy_by_language.items())
        )
    lines.append(
        f"no label: right in {evaluation.no_label_precision:.0%} of the comments given no label; "
        f"found for {evaluation.no_label_recall:.0%} of the {evaluation.no_label_support} that have none"
    )
    if evaluation.confused_pairs:
        lines.append(
            "most confused (missed -> given instead): "
            + "; ".join(f"{a} -> {b} ({n})" for a, b, n in evaluation.confused_pairs[:6])
        )
    return "\n".join(lines)
