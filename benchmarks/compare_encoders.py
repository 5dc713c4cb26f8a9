"""Compare sentence encoders under the same heads, per language.

    python benchmarks/compare_encoders.py [ENCODER ...]

For each encoder: train the label and tone heads (``TrainedModel``, the same
settings as the default model) on data/train, then print macro-F1 per
language and tone accuracy on the held-out test split (data/test) and, when
present, on the realistic evaluation set (data/eval), plus the encoder's
speed on this machine. Embeddings are cached, so a rerun only encodes what is
new.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    from analyser.classification import TONES
    from analyser.evaluation import evaluate_predictions
    from analyser.features import build_features
    from analyser.pipeline import Analyser, Settings
    from analyser.trained import TrainedModel
    from analyser.training import load_labelled

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("encoders", nargs="*", default=["use-multilingual", "minilm", "e5-small"])
    parser.add_argument("--C", type=float, default=8.0)
    args = parser.parse_args()
    sets = {"test": [REPO / "data" / "test"]}
    if (REPO / "data" / "eval").is_dir() and any((REPO / "data" / "eval").iterdir()):
        sets["eval"] = [REPO / "data" / "eval"]
    rows = []
    for name in args.encoders:
        analyser = Analyser(Settings(encoder=name, classifier="zero-shot")).fit()
        train = load_labelled([REPO / "data" / "train"], analyser.taxonomy)
        started = time.perf_counter()
        features = build_features(train.texts, train.languages, analyser.encoder, analyser.processor)
        encode_seconds = time.perf_counter() - started
        model = TrainedModel(analyser.encoder, analyser.taxonomy, C=args.C).fit(features, train.Y, train.tones)
        row = {"encoder": name, "train_features_s": round(encode_seconds, 1)}
        for set_name, paths in sets.items():
            data = load_labelled(paths, analyser.taxonomy)
            test_features = build_features(data.texts, data.languages, analyser.encoder, analyser.processor)
            tones = [TONES[j] for j in model.tone_proba(test_features).argmax(axis=1)]
            evaluation = evaluate_predictions(
                data.Y, model.predict(test_features), data.labels, data.languages, data.tones, tones
            )
            for language, value in evaluation.macro_f1_by_language.items():
                row[f"{set_name} F1 {language}"] = value
            row[f"{set_name} tone"] = evaluation.tone_accuracy
        speed_texts = train.texts[:300]
        fresh = Analyser(Settings(encoder=name, classifier="zero-shot", use_cache=False)).encoder
        fresh.encode(["warm-up"])
        started = time.perf_counter()
        fresh.encode(speed_texts)
        row["comments/s"] = round(len(speed_texts) / (time.perf_counter() - started), 1)
        rows.append(row)
        print(row, flush=True)
    columns = list(rows[0])
    print("\n| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")


if __name__ == "__main__":
    main()
