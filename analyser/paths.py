"""Where the analyser finds its data, models and cache."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The folder with taxonomy, playbook, training examples and samples."""
    return Path(os.environ.get("ANALYSER_DATA_DIR", REPO_ROOT / "data"))


def models_dir() -> Path:
    """The folder with trained artefacts and their model cards."""
    return Path(os.environ.get("ANALYSER_MODELS_DIR", REPO_ROOT / "models"))


def cache_dir() -> Path:
    """The on-disk cache (embeddings); per user, never inside the repository."""
    if "ANALYSER_CACHE_DIR" in os.environ:
        return Path(os.environ["ANALYSER_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "trust-analyser"
