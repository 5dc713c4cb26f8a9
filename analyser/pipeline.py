"""The public entry point: ``analyse(...)`` from a survey file to a result.

Stages, each in its own module and each working on a batch of rows:
reading -> text normalisation and status -> language -> spaCy and encoding
(features) -> label and tone classification -> evidence. Every input row comes
back, in the input's order, with a status that says whether and why it was
(not) labelled.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from . import trained as _trained  # noqa: F401  (registers the trained heads)
from .assistant import AssistantReport, assistant_from_config
from .classification import TONES
from .encoding import DEFAULT_ENCODER, CachedEncoder, Encoder, make_encoder
from .features import build_features
from .language import make_detector
from .llm import LLMConfig
from .parallel import map_batches, resolve_workers
from .paths import cache_dir as default_cache_dir
from .reading import InputInfo, SurveyTable, read_survey, select_columns
from .registry import make
from .storage import EmbeddingCache
from .taxonomy import Taxonomy, load_taxonomy
from .text import TextProcessor, is_placeholder, normalise
from .text import preload as preload_text

Progress = Callable[[str, int, int], None]

# Statuses, in the order they are checked. Only "ok" and "duplicate" rows carry labels.
STATUS_OK = "ok"
STATUS_EMPTY = "empty"
STATUS_NO_CONTENT = "no_content"
STATUS_TOO_LONG = "too_long"
STATUS_UNSUPPORTED = "unsupported_language"
STATUS_DUPLICATE = "duplicate"
STATUSES = {
    STATUS_OK: "labelled",
    STATUS_DUPLICATE: "same text as an earlier answer to the same question; labelled like it",
    STATUS_EMPTY: "no answer",
    STATUS_NO_CONTENT: "a filler such as '-' or 'n.v.t.', no comment to label",
    STATUS_TOO_LONG: "longer than the maximum length; not labelled",
    STATUS_UNSUPPORTED: "not Dutch or English; not labelled",
}
LABELLED_STATUSES = (STATUS_OK, STATUS_DUPLICATE)


@dataclass
class Settings:
    """Everything that shapes a run; recorded in the result's metadata."""

    encoder: str = DEFAULT_ENCODER
    classifier: str = "trained"
    # None: the trained tone head with a trained classifier, else the lexicon.
    tone_classifier: str | None = None
    # A trained model: a folder, or a name inside models/ (default: trust-default).
    model: str | None = None
    language: str = "auto"
    max_chars: int = 20000
    batch_size: int = 2048
    # Worker processes for labelling: 0 = automatic (the cores, for inputs of at
    # least min_rows_for_workers comments, when it is safe; see parallel.py), 1 = none.
    workers: int = 0
    min_rows_for_workers: int = 2000
    use_cache: bool = True
    cache_dir: str | None = None
    taxonomy_path: str | None = None
    # The optional LLM assistant (off unless configured): a second opinion on unsure comments.
    llm: LLMConfig | None = None


@dataclass
class LabelledBatch:
    """What labelling gives for one batch; label arrays cover the supported rows only."""

    languages: list[str]
    supported: np.ndarray  # (n,) bool
    scores: np.ndarray  # (k, labels) for the k supported rows
    predicted: np.ndarray
    tones: list[str]
    evidence: list[str]
    cues: list[str]
    embeddings: np.ndarray
    timings: dict[str, float]
    cache_hits: int = 0
    cache_misses: int = 0
    process: int = field(default_factory=os.getpid)  # where the batch was labelled


@dataclass
class RunMetadata:
    analyser_version: str
    created_at: str
    input: dict[str, Any]
    taxonomy: dict[str, str]
    encoder: dict[str, str]
    classifier: dict[str, Any]
    tone_classifier: dict[str, str]
    language_detector: str
    settings: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    cache: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    workers: int = 1  # processes that labelled the comments (see parallel.py)
    python: str = platform.python_version()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AnalysisResult:
    """A table with one row per input comment, plus how it was made."""

    comments: pd.DataFrame
    metadata: RunMetadata
    taxonomy: Taxonomy
    embeddings: np.ndarray | None = None  # aligned with comments; NaN rows were not labelled
    assistant: AssistantReport | None = None  # what the LLM assistant did, if it was configured

    @property
    def labelled(self) -> pd.DataFrame:
        return self.comments[self.comments["status"].isin(LABELLED_STATUSES)]

    def label_counts(self) -> dict[str, int]:
        labelled = self.labelled
        counts = {}
        for key in self.taxonomy.keys:
            column = "dimensions" if self.taxonomy.label(key).kind == "dimension" else "areas"
            counts[key] = int(labelled[column].str.split(";").map(lambda keys, k=key: k in keys).sum())
        return counts

    def save(self, path: str | Path) -> Path:
        from .export import write_result

        return write_result(self, path)


class _BackgroundLoad:
    """Run a loading function on a thread; ``join`` waits and re-raises its error here."""

    def __init__(self, load: Callable[[], None]) -> None:
        self._error: BaseException | None = None

        def run() -> None:
            try:
                load()
            except BaseException as error:  # handed to the caller in join()
                self._error = error

        self._thread = threading.Thread(target=run, name="analyser-preload", daemon=True)
        self._thread.start()

    def join(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


class Analyser:
    """A fitted pipeline: reusable over many files (the web app keeps one)."""

    def __init__(self, settings: Settings | None = None, encoder: Encoder | None = None) -> None:
        self.settings = settings or Settings()
        if self.settings.workers < 0:
            from .errors import ConfigurationError

            raise ConfigurationError(
                f"workers is {self.settings.workers}: it cannot be negative.",
                "Use 0 (automatic), 1 (no worker processes) or the number of processes to use.",
            )
        self.taxonomy = load_taxonomy(self.settings.taxonomy_path)
        base = encoder or make_encoder(self.settings.encoder)
        self.cache: EmbeddingCache | None = None
        if self.settings.use_cache:
            folder = Path(self.settings.cache_dir) if self.settings.cache_dir else default_cache_dir()
            self.cache = EmbeddingCache(folder / "embeddings.sqlite")
            self.encoder: Encoder = CachedEncoder(base, self.cache)
        else:
            self.encoder = base
        self.detector = make_detector(self.settings.language)
        self.processor = TextProcessor(max_chars=self.settings.max_chars)
        self.classifier = make(
            "label_classifier",
            self.settings.classifier,
            encoder=self.encoder,
            taxonomy=self.taxonomy,
            model=self.settings.model,
        )
        tone = self.settings.tone_classifier or ("trained" if self.settings.classifier == "trained" else "lexicon")
        self.tone_classifier = make(
            "tone_classifier", tone, encoder=self.encoder, taxonomy=self.taxonomy, model=self.settings.model
        )
        self.assistant = assistant_from_config(self.settings.llm)
        self._fitted = False

    def label_batch(self, texts: list[str], progress: Progress | None = None) -> LabelledBatch:
        """Language, features, labels, tone and evidence for a batch of comments.

        A pure function of the fitted models, so batches can run in worker
        processes; rows in a language other than Dutch or English come back
        unsupported and unlabelled.
        """
        self.fit()
        timings: dict[str, float] = {}
        hits, misses = getattr(self.encoder, "hits", 0), getattr(self.encoder, "misses", 0)
        t = time.perf_counter()
        guesses = self.detector.detect(texts)
        supported = np.array([guess.supported for guess in guesses], dtype=bool)
        languages = [guess.language for guess in guesses]
        keep = np.flatnonzero(supported)
        timings["language"] = time.perf_counter() - t
        if not len(keep):
            labels = len(self.classifier.labels_)
            return LabelledBatch(
                languages=languages,
                supported=supported,
                scores=np.zeros((0, labels), dtype=np.float32),
                predicted=np.zeros((0, labels), dtype=bool),
                tones=[],
                evidence=[],
                cues=[],
                embeddings=np.zeros((0, 0), dtype=np.float32),
                timings=timings,
            )
        t = time.perf_counter()
        features = build_features(
            [texts[i] for i in keep], [languages[i] for i in keep], self.encoder, self.processor, progress
        )
        timings["features"] = time.perf_counter() - t
        t = time.perf_counter()
        proba = self.classifier.predict_proba(features)
        explained = self.classifier.explain(features, proba)
        tone_proba = self.tone_classifier.predict_proba(features)
        timings["classify"] = time.perf_counter() - t
        return LabelledBatch(
            languages=languages,
            supported=supported,
            scores=proba.astype(np.float32),
            predicted=proba >= self.classifier.thresholds_,
            tones=[TONES[j] for j in tone_proba.argmax(axis=1)],
            evidence=[item.sentence for item in explained],
            cues=["; ".join(f"{key}: {', '.join(found)}" for key, found in item.cues.items()) for item in explained],
            embeddings=features.embeddings,
            timings=timings,
            cache_hits=getattr(self.encoder, "hits", 0) - hits,
            cache_misses=getattr(self.encoder, "misses", 0) - misses,
        )

    def _worker_setup(self, workers: int) -> Callable[[], None]:
        """What a worker process does first: its share of the cores for BLAS."""

        def setup() -> None:
            limit = getattr(self.encoder, "limit_threads", None)
            if limit is not None:
                limit(max(1, (os.cpu_count() or 1) // workers))

        return setup

    def fit(self) -> Analyser:
        if not self._fitted:
            # The tokenizers, lemma dictionaries and the language model are
            # largely decompression, which runs outside the GIL: they are read
            # on a second thread while the encoder and the heads load (about
            # 0.4 s less start-up). Everything loaded here is shared with
            # forked workers.
            preload = _BackgroundLoad(self._preload)
            try:
                self.classifier.fit()
                self.tone_classifier.fit()
            finally:
                preload.join()
            self._fitted = True
        return self

    def _preload(self) -> None:
        preload_text(self.processor.languages)
        load_detector = getattr(self.detector, "load", None)
        if load_detector is not None:
            load_detector()

    # ------------------------------------------------------------------
    def analyse_table(self, table: SurveyTable, progress: Progress | None = None) -> AnalysisResult:
        timings: dict[str, float] = {}
        started = time.perf_counter()

        def tick(stage: str, since: float) -> float:
            now = time.perf_counter()
            timings[stage] = round(timings.get(stage, 0.0) + now - since, 4)
            return now

        t = time.perf_counter()
        self.fit()
        t = tick("load_models", t)
        frame = table.frame.copy()
        n = len(frame)
        raw = frame["text"].tolist()
        texts = [normalise(v) for v in raw]
        status = np.array([STATUS_OK] * n, dtype=object)
        for i, text in enumerate(texts):
            if not text.strip():
                status[i] = STATUS_EMPTY
            elif len(text) > self.settings.max_chars:
                status[i] = STATUS_TOO_LONG
            elif is_placeholder(text):
                status[i] = STATUS_NO_CONTENT
        t = tick("normalise", t)

        # Repeated answers are labelled once: the first copy goes through the
        # stages, the others take its language, status and labels.
        duplicate_of = np.array([""] * n, dtype=object)
        original = np.arange(n)
        first_seen: dict[tuple[str, str], int] = {}
        question = frame["question"].tolist() if "question" in frame else [""] * n
        ids = frame["id"].tolist()
        for i in np.flatnonzero(status == STATUS_OK):
            key = (question[i], " ".join(texts[i].casefold().split()))
            if key in first_seen:
                status[i] = STATUS_DUPLICATE
                duplicate_of[i] = ids[first_seen[key]]
                original[i] = first_seen[key]
            else:
                first_seen[key] = i
        t = tick("normalise", t)

        labels = self.classifier.labels_
        languages = np.array([""] * n, dtype=object)
        scores = np.zeros((n, len(labels)), dtype=np.float32)
        predicted = np.zeros((n, len(labels)), dtype=bool)
        tones = np.array([""] * n, dtype=object)
        evidence = np.array([""] * n, dtype=object)
        cue_text = np.array([""] * n, dtype=object)
        embeddings: np.ndarray | None = None
        todo = np.flatnonzero(status == STATUS_OK)
        fork_safe = getattr(self.encoder, "fork_safe", False)
        workers = resolve_workers(self.settings.workers, len(todo), self.settings.min_rows_for_workers, fork_safe)
        # Smaller batches keep every worker busy to the end.
        size = self.settings.batch_size if workers == 1 else min(self.settings.batch_size, 512)
        batches = [todo[start : start + size] for start in range(0, len(todo), size)]
        notes: list[str] = []
        finished = 0

        def label_here(batch_texts: list[str]) -> LabelledBatch:
            def report(stage: str, done: int, total: int) -> None:
                if progress:
                    progress(stage, min(len(todo), finished + done * len(batch_texts) // max(1, total)), len(todo))

            return self.label_batch(batch_texts, report if progress else None)

        for batch, done in zip(
            batches,
            map_batches(
                self.label_batch if workers > 1 else label_here,
                [[texts[i] for i in batch] for batch in batches],
                workers=workers,
                setup=self._worker_setup(workers),
                on_fallback=notes.append,
            ),
        ):
            languages[batch] = done.languages
            status[batch[~done.supported]] = STATUS_UNSUPPORTED
            rows = batch[done.supported]
            if embeddings is None and len(rows):
                embeddings = np.full((n, done.embeddings.shape[1]), np.nan, dtype=np.float32)
            if len(rows):
                assert embeddings is not None
                embeddings[rows] = done.embeddings
            scores[rows] = done.scores
            predicted[rows] = done.predicted
            tones[rows] = done.tones
            evidence[rows] = done.evidence
            cue_text[rows] = done.cues
            for stage, seconds in done.timings.items():
                timings[stage] = round(timings.get(stage, 0.0) + seconds, 4)
            if isinstance(self.encoder, CachedEncoder) and done.process != os.getpid():
                # A worker's cache counts stayed in the worker.
                self.encoder.hits += done.cache_hits
                self.encoder.misses += done.cache_misses
            finished += len(batch)
            if progress:
                progress("classifying", finished, len(todo))
        t = tick("labelling", t)
        # Duplicates get the labels of the answer they repeat.
        for i in np.flatnonzero(status == STATUS_DUPLICATE):
            j = original[i]
            languages[i] = languages[j]
            if status[j] == STATUS_UNSUPPORTED:
                status[i], duplicate_of[i] = STATUS_UNSUPPORTED, ""
                continue
            scores[i], predicted[i], tones[i] = scores[j], predicted[j], tones[j]
            evidence[i], cue_text[i] = evidence[j], cue_text[j]
            if embeddings is not None:
                embeddings[i] = embeddings[j]

        kinds = {label.key: label.kind for label in self.taxonomy.labels}
        dimensions, areas = [], []
        for i in range(n):
            keys = [labels[j] for j in np.flatnonzero(predicted[i])]
            dimensions.append(";".join(k for k in keys if kinds[k] == "dimension"))
            areas.append(";".join(k for k in keys if kinds[k] == "area"))
        labelled = np.isin(status, LABELLED_STATUSES)
        frame["text"] = texts
        frame["language"] = languages
        frame["status"] = status
        frame["status_detail"] = [
            (f"same text as {duplicate_of[i]}" if status[i] == STATUS_DUPLICATE else STATUSES[status[i]])
            + (f" (language detected: {languages[i]})" if status[i] == STATUS_UNSUPPORTED else "")
            + (
                f" ({len(texts[i])} characters; the limit is {self.settings.max_chars})"
                if status[i] == STATUS_TOO_LONG
                else ""
            )
            for i in range(n)
        ]
        frame["duplicate_of"] = duplicate_of
        frame["dimensions"] = dimensions
        frame["areas"] = areas
        frame["tone"] = tones
        for j, key in enumerate(labels):
            frame[f"score_{key}"] = np.where(labelled, np.round(scores[:, j].astype(np.float64), 4), np.nan)
        frame["evidence"] = evidence
        frame["cues"] = cue_text
        tick("assemble", t)
        timings["total"] = round(time.perf_counter() - started, 4)

        info: InputInfo = table.info
        metadata = RunMetadata(
            analyser_version=__version__,
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            input=asdict(info),
            taxonomy={"version": self.taxonomy.version_tag, "source": self.taxonomy.source},
            encoder={"name": self.encoder.name, "version": self.encoder.version},
            classifier={
                "name": self.classifier.name,
                "version": self.classifier.version,
                "thresholds": {k: float(v) for k, v in zip(labels, self.classifier.thresholds_)},
            },
            tone_classifier={"name": self.tone_classifier.name, "version": self.tone_classifier.version},
            language_detector=self.detector.name,
            settings=asdict(self.settings),
            timings=timings,
            counts={s: int((status == s).sum()) for s in STATUSES if (status == s).any()},
            cache=(
                {"hits": self.encoder.hits, "misses": self.encoder.misses}
                if isinstance(self.encoder, CachedEncoder)
                else {}
            ),
            notes=list(info.notes) + notes,
            workers=1 if notes else workers,
        )
        result = AnalysisResult(comments=frame, metadata=metadata, taxonomy=self.taxonomy, embeddings=embeddings)
        if self.assistant is not None:
            t = time.perf_counter()
            report = self.assistant.second_opinion(result, progress=progress)
            metadata.notes.append(report.summary_line())
            tick("assistant", t)
        return result


def analyse(
    source: str | Path | pd.DataFrame,
    *,
    text_columns: list[str] | str | None = None,
    id_column: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    settings: Settings | None = None,
    analyser: Analyser | None = None,
    progress: Progress | None = None,
    **setting_overrides: Any,
) -> AnalysisResult:
    """Analyse a survey export (a file path or a table) and label every comment.

    ``text_columns`` names the open question(s) (found automatically if left
    out), ``id_column`` the respondent id. Other keyword arguments override
    :class:`Settings` fields, e.g. ``encoder="minilm"`` or ``language="nl"``.
    """
    if isinstance(text_columns, str):
        text_columns = [text_columns]
    if isinstance(source, pd.DataFrame):
        frame = source.fillna("").astype(str).reset_index(drop=True)
        info = InputInfo(path="<table>", format="dataframe", columns=list(frame.columns), input_rows=len(frame))
        table = select_columns(frame, info, text_columns=text_columns, id_column=id_column)
    else:
        table = read_survey(source, text_columns=text_columns, id_column=id_column, sheet=sheet, encoding=encoding)
    if analyser is None:
        settings = settings or Settings()
        for key, value in setting_overrides.items():
            if not hasattr(settings, key):
                from .errors import ConfigurationError

                raise ConfigurationError(f"Unknown setting '{key}'.", f"Known settings: {', '.join(asdict(settings))}.")
            setattr(settings, key, value)
        analyser = Analyser(settings)
    return analyser.analyse_table(table, progress=progress)
