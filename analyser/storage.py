"""On-disk storage: the embedding cache.

Embeddings are stored in SQLite (standard library, one file, safe to read:
no pickle) keyed by the encoder's identity and a hash of the text, so a second
run over the same file skips the encoder, and different encoders never mix.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import numpy as np


def text_key(encoder_id: str, text: str) -> bytes:
    return hashlib.blake2b(f"{encoder_id}\x00{text}".encode(), digest_size=20).digest()


class EmbeddingCache:
    """A persistent map (encoder, text) -> float32 vector."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._pid = -1
        self._open()

    def _open(self) -> None:
        self._connection_ = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._connection_.execute("PRAGMA journal_mode=WAL")
        self._connection_.execute(
            "CREATE TABLE IF NOT EXISTS embeddings (key BLOB PRIMARY KEY, dim INTEGER, vector BLOB)"
        )
        self._pid = os.getpid()

    @property
    def _connection(self) -> sqlite3.Connection:
        # A SQLite connection must not be used across fork(): a worker process
        # opens its own (WAL mode lets several processes read and write).
        if self._pid != os.getpid():
            self._open()
        return self._connection_

    def get_many(self, encoder_id: str, texts: list[str]) -> dict[int, np.ndarray]:
        """Vectors found for the given texts, by position in the list."""
        keys = [text_key(encoder_id, t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            query = f"SELECT key, vector FROM embeddings WHERE key IN ({','.join('?' * len(chunk))})"
            for key, blob in self._connection.execute(query, chunk):
                found[bytes(key)] = np.frombuffer(blob, dtype=np.float32)
        return {i: found[k] for i, k in enumerate(keys) if k in found}

    def put_many(self, encoder_id: str, texts: list[str], vectors: np.ndarray) -> None:
        rows = [
            (text_key(encoder_id, t), int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes())
            for t, v in zip(texts, vectors)
        ]
        with self._connection:
            self._connection.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)", rows)

    def __len__(self) -> int:
        return int(self._connection.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])

    def close(self) -> None:
        self._connection_.close()
