from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "samples" / "trust_survey_sample.csv"


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Tests never touch the user's embedding cache.
    os.environ["ANALYSER_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def analyser():
    from analyser import Analyser, Settings

    return Analyser(Settings()).fit()


@pytest.fixture(scope="session")
def sample_path() -> Path:
    return SAMPLE


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture(scope="session")
def sample_result(analyser, sample_path):  # type: ignore[no-untyped-def]
    from analyser import analyse

    return analyse(sample_path, analyser=analyser)
