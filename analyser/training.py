"""Training and evaluating from labelled files (the output format or JSONL).

A labelled file has a text column (``text``, or the one found automatically),
``dimensions`` and ``areas`` (``;``-joined keys, empty for none) and,
optionally, ``tone`` and ``language``. The analyser's own output is such a
file, so a user who corrects labels in it can train on the corrections; when
the same text appears twice, the later row (the correction) wins.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .classification import TONES, parse_label_cell
from .encoding import Progress
from .errors import InputError
from .evaluation import Evaluation, evaluate_predictions, format_evaluation
from .features import build_features
from .language import make_detector
from .pipeline import LABELLED_STATUSES, Analyser, Settings
from .reading import SUPPORTED, read_table, suggest_text_columns
from .taxonomy import Taxonomy, load_taxonomy
from .text import normalise
from .trained import TrainedModel


@dataclass
class LabelledSet:
    texts: list[str]
    languages: list[str]
    Y: np.ndarray  # (n, labels) bool
    tones: list[str] | None
    labels: list[str]
    sources: list[str]
    weights: np.ndarray | None = None  # per comment; corrections count more

    def __len__(self) -> int:
        return len(self.texts)

    def counts(self) -> dict[str, dict[str, int]]:
        """Examples per label and language (and 'none')."""
        out: dict[str, dict[str, int]] = {}
        languages = np.asarray(self.languages)
        for language in sorted(set(self.languages)):
            mask = languages == language
            row = {label: int(self.Y[mask, j].sum()) for j, label in enumerate(self.labels)}
            row["none"] = int((~self.Y[mask].any(axis=1)).sum())
            row["total"] = int(mask.sum())
            out[language] = row
        return out


def _files(paths: list[str | Path]) -> list[Path]:
    out = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in SUPPORTED and p.is_file())
            if not found:
                raise InputError(
                    f"The folder {path} holds no labelled files.",
                    f"Put files with extensions {', '.join(SUPPORTED)} in it.",
                )
            out.extend(found)
        else:
            out.append(path)
    return out


ACCEPT_VALUES = {"yes", "y", "ja", "j", "true", "1", "x", "accept", "accepted"}


def _accepted_suggestions(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """LLM-assisted annotation: the rows whose ``llm_accept`` the user marked, with the assistant's labels."""
    missing = [c for c in ("llm_dimensions", "llm_areas", "llm_tone") if c not in frame.columns]
    if missing:
        raise InputError(
            f"{path.name} has an 'llm_accept' column but no {', '.join(missing)}.",
            "Mark llm_accept in a file written by 'analyser analyse --llm-url ...'.",
        )
    accepted = frame[frame["llm_accept"].fillna("").astype(str).str.strip().str.casefold().isin(ACCEPT_VALUES)]
    if accepted.empty:
        raise InputError(
            f"No row of {path.name} has llm_accept marked.",
            f"Write yes in the llm_accept column of the suggestions you accept ({', '.join(sorted(ACCEPT_VALUES))}).",
        )
    accepted = accepted.copy()
    accepted["dimensions"] = accepted["llm_dimensions"].fillna("")
    accepted["areas"] = accepted["llm_areas"].fillna("")
    llm_tone = accepted["llm_tone"].fillna("").astype(str)
    accepted["tone"] = llm_tone.where(llm_tone != "", accepted.get("tone", ""))
    return accepted


def load_labelled(paths: list[str | Path], taxonomy: Taxonomy | None = None) -> LabelledSet:
    taxonomy = taxonomy or load_taxonomy()
    labels = taxonomy.keys
    kinds = {label.key: label.kind for label in taxonomy.labels}
    frames = []
    for path in _files(paths):
        frame, _ = read_table(path)
        if "dimensions" not in frame.columns and "areas" not in frame.columns:
            raise InputError(
                f"{path.name} has no 'dimensions' or 'areas' column, so it holds no labels.",
                "Use the analyser's output format (columns text, dimensions, areas, tone).",
            )
        text_column = "text" if "text" in frame.columns else (suggest_text_columns(frame) or [None])[0]
        if text_column is None:
            raise InputError(f"{path.name} has no text column.", "Name it 'text'.")
        if "status" in frame.columns:
            frame = frame[frame["status"].isin(LABELLED_STATUSES)]
        if "llm_accept" in frame.columns:
            frame = _accepted_suggestions(frame, path)
        part = pd.DataFrame(
            {
                "text": frame[text_column].map(normalise),
                "dimensions": frame.get("dimensions", ""),
                "areas": frame.get("areas", ""),
                "tone": frame.get("tone", ""),
                "language": frame.get("language", ""),
                "source": path.name,
                "row": range(2, len(frame) + 2),
            }
        )
        frames.append(part[part["text"].str.strip() != ""])
    data = pd.concat(frames, ignore_index=True)
    # A later row with the same text (a correction) replaces an earlier one.
    data = data[~data["text"].str.casefold().duplicated(keep="last")].reset_index(drop=True)
    Y = np.zeros((len(data), len(labels)), dtype=bool)
    for i, row in enumerate(data.itertuples(index=False)):
        for column in ("dimensions", "areas"):
            for key in parse_label_cell(getattr(row, column)):
                if key not in kinds:
                    raise InputError(
                        f"Row {row.row} of {row.source} has the unknown label '{key}' in '{column}'.",
                        f"Use the keys of the taxonomy: {', '.join(labels)}.",
                    )
                Y[i, labels.index(key)] = True
    tones = data["tone"].str.strip().tolist()
    bad = sorted({t for t in tones if t and t not in TONES})
    if bad:
        raise InputError(f"Unknown tone(s): {', '.join(bad)}.", f"Use one of: {', '.join(TONES)}.")
    has_tones = all(tones)
    languages = data["language"].str.strip().tolist()
    missing = [i for i, language in enumerate(languages) if language not in ("nl", "en")]
    if missing:
        detector = make_detector("auto")
        for i, guess in zip(missing, detector.detect([data["text"][i] for i in missing])):
            languages[i] = guess.language if guess.supported else "other"
    return LabelledSet(
        texts=data["text"].tolist(),
        languages=languages,
        Y=Y,
        tones=tones if has_tones else None,
        labels=labels,
        sources=data["source"].tolist(),
    )


def evaluate_model(data: LabelledSet, settings: Settings | None = None, analyser: Analyser | None = None) -> Evaluation:
    """Run the whole pipeline on labelled comments and compare with the labels."""
    from .pipeline import analyse

    frame = pd.DataFrame({"text": data.texts})
    result = analyse(frame, text_columns=["text"], settings=settings, analyser=analyser)
    labels = data.labels
    predicted = np.zeros_like(data.Y)
    for i, row in enumerate(result.comments.itertuples(index=False)):
        for key in (row.dimensions + ";" + row.areas).split(";"):
            if key:
                predicted[i, labels.index(key)] = True
    tones_pred = [t or "neutral" for t in result.comments["tone"]]
    return evaluate_predictions(
        data.Y, predicted, labels, data.languages, data.tones, tones_pred if data.tones else None
    )


def _with_corrections(data: LabelledSet, corrections: LabelledSet, weight: float) -> LabelledSet:
    """Training data with corrections on top: a corrected text replaces its earlier labels."""
    corrected = {text.casefold() for text in corrections.texts}
    keep = [i for i, text in enumerate(data.texts) if text.casefold() not in corrected]
    tones = None
    if data.tones is not None and corrections.tones is not None:
        tones = [data.tones[i] for i in keep] + corrections.tones
    return LabelledSet(
        texts=[data.texts[i] for i in keep] + corrections.texts,
        languages=[data.languages[i] for i in keep] + corrections.languages,
        Y=np.vstack([data.Y[keep], corrections.Y]),
        tones=tones,
        labels=data.labels,
        sources=[data.sources[i] for i in keep] + corrections.sources,
        weights=np.concatenate([np.ones(len(keep)), np.full(len(corrections), weight)]),
    )


def train(
    train_paths: list[str | Path],
    out: str | Path,
    encoder: str = "use-multilingual",
    test_paths: list[str | Path] | None = None,
    corrections: list[str | Path] | None = None,
    correction_weight: float = 10.0,
    C: float = 16.0,
    random_state: int = 0,
    progress: Progress | None = None,
    use_cache: bool = True,
) -> tuple[Path, Evaluation | None]:
    """Train label and tone heads on labelled files; write the model and its card."""
    settings = Settings(encoder=encoder, classifier="zero-shot", use_cache=use_cache)
    analyser = Analyser(settings).fit()
    data = load_labelled(train_paths, analyser.taxonomy)
    if corrections:
        # A user's correction is a deliberate statement about that comment:
        # it replaces any earlier label of the same text and weighs more.
        data = _with_corrections(data, load_labelled(corrections, analyser.taxonomy), correction_weight)
    if data.tones is None:
        raise InputError("Some training rows have no tone.", f"Give every row a tone: {', '.join(TONES)}.")
    if len(data) < 50:
        raise InputError(
            f"Only {len(data)} labelled comments: too few to train on.",
            "Give at least 50 (better: hundreds per label).",
        )
    started = datetime.now(timezone.utc)
    features = build_features(data.texts, data.languages, analyser.encoder, analyser.processor, progress)
    model = TrainedModel(analyser.encoder, analyser.taxonomy, C=C, random_state=random_state)
    model.fit(features, data.Y, data.tones, sample_weight=data.weights)
    card = {
        "trained_at": started.isoformat(timespec="seconds"),
        "analyser_version": __version__,
        "python": platform.python_version(),
        "training_data": {
            "files": sorted(set(data.sources)),
            "comments": len(data),
            "per_language_and_label": data.counts(),
            "tones": {tone: data.tones.count(tone) for tone in TONES},
            "corrections": {"files": [str(p) for p in corrections or []], "weight": correction_weight},
        },
    }
    folder = Path(out)
    model.save(folder, card)
    evaluation = None
    if test_paths:
        test = load_labelled(test_paths, analyser.taxonomy)
        evaluator = Analyser(Settings(encoder=encoder, model=str(folder), use_cache=use_cache))
        evaluation = evaluate_model(test, analyser=evaluator)
        card["evaluation"] = {"files": [str(p) for p in test_paths], **evaluation.to_dict()}
        model.save(folder, card)
    write_model_card(folder, card, evaluation, model.thresholds_, analyser.taxonomy.keys, encoder)
    return folder, evaluation


def write_model_card(
    folder: Path, card: dict, evaluation: Evaluation | None, thresholds: np.ndarray, labels: list[str], encoder: str
) -> None:
    data = card["training_data"]
    languages = list(data["per_language_and_label"])
    lines = [
        f"# Model card: {folder.name}",
        "",
        "Labels employee survey comments with the ten trust labels of `data/taxonomy.yaml` (multi-label, "
        '"no label" allowed) and one tone. Trained heads on a frozen sentence encoder.',
        "",
        f"- Trained: {card['trained_at']} with analyser {card['analyser_version']} (Python {card['python']})",
        f"- Encoder: `{encoder}`",
        "- Heads: one logistic regression per label over the comment embedding, zero-shot similarity to the "
        "label descriptions and cues, cue evidence and word/lemma/character TF-IDF, Platt-calibrated on 5-fold "
        "out-of-fold scores; then a second-stage logistic regression per label over all ten calibrated "
        "probabilities and the signals (label co-occurrence); per-label thresholds chosen on the second "
        "stage's out-of-fold probabilities. Tone: multinomial logistic regression over the embedding, the "
        "lexicon tone and the TF-IDF features.",
        "- Files: `model.json` (settings, thresholds, this card's facts), `weights.npz` (arrays, loaded with "
        "`allow_pickle=False`), `vocabulary.json` (n-gram vocabularies). Nothing in them is executed.",
        "",
        "## Training data",
        "",
        f"{data['comments']} comments from {', '.join(f'`{f}`' for f in data['files'])}.",
        "",
        "| label | " + " | ".join(languages) + " |",
        "|---|" + "---|" * len(languages),
    ]
    for key in [*labels, "none", "total"]:
        lines.append(
            f"| {key} | " + " | ".join(str(data["per_language_and_label"][lang][key]) for lang in languages) + " |"
        )
    lines += ["", "Tones: " + ", ".join(f"{k} {v}" for k, v in data["tones"].items()), ""]
    lines += ["## Thresholds", "", "| label | threshold |", "|---|---|"]
    lines += [f"| {key} | {float(t):.3f} |" for key, t in zip(labels, thresholds)]
    if evaluation is not None:
        lines += ["", "## Evaluation on the held-out test split", "", "```", format_evaluation(evaluation), "```"]
    extra = folder / "MODEL_CARD.extra.md"
    if extra.exists():
        lines += ["", extra.read_text(encoding="utf-8").strip()]
    lines += [
        "",
        "## Retrain",
        "",
        "```bash",
        f"analyser train data/train --out models/{folder.name} --encoder {encoder} --test data/test",
        "```",
        "",
        "Any labelled file in the analyser's output format can be added (corrections win over earlier rows "
        "with the same text).",
        "",
    ]
    (folder / "MODEL_CARD.md").write_text("\n".join(lines), encoding="utf-8")
