"""The trust taxonomy: labels, their names in Dutch and English, cues.

The taxonomy is data (``data/taxonomy.yaml``); this module only loads and
checks it, so a consultancy can adapt the wording without touching code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import ConfigurationError
from .paths import data_dir

LANGUAGES = ("nl", "en")
LABEL_KINDS = ("dimension", "area")


@dataclass(frozen=True)
class Label:
    key: str
    kind: str
    name: dict[str, str]
    description: dict[str, str]
    cues: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def display(self, language: str = "en") -> str:
        return self.name.get(language) or self.name["en"]


@dataclass(frozen=True)
class Tone:
    key: str
    name: dict[str, str]
    description: dict[str, str]

    def display(self, language: str = "en") -> str:
        return self.name.get(language) or self.name["en"]


@dataclass(frozen=True)
class Taxonomy:
    version: str
    checksum: str
    labels: tuple[Label, ...]
    tones: tuple[Tone, ...]
    kind_names: dict[str, dict[str, str]]
    source: str
    title: dict[str, str] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return [label.key for label in self.labels]

    @property
    def dimensions(self) -> list[Label]:
        return [label for label in self.labels if label.kind == "dimension"]

    @property
    def areas(self) -> list[Label]:
        return [label for label in self.labels if label.kind == "area"]

    @property
    def tone_keys(self) -> list[str]:
        return [tone.key for tone in self.tones]

    def label(self, key: str) -> Label:
        for label in self.labels:
            if label.key == key:
                return label
        raise KeyError(key)

    def name(self, key: str, language: str = "en") -> str:
        """Display name of a label or tone key in the given language."""
        for item in (*self.labels, *self.tones):
            if item.key == key:
                return item.display(language)
        raise KeyError(key)

    @property
    def version_tag(self) -> str:
        return f"{self.version}+{self.checksum[:8]}"


def _require(mapping: dict, key: str, where: str) -> object:
    if key not in mapping:
        raise ConfigurationError(
            f"The taxonomy file lacks '{key}' in {where}.",
            "Compare it with data/taxonomy.yaml in the repository.",
        )
    return mapping[key]


def _bilingual(mapping: dict, key: str, where: str) -> dict[str, str]:
    value = _require(mapping, key, where)
    if not isinstance(value, dict) or any(not value.get(lang) for lang in LANGUAGES):
        raise ConfigurationError(
            f"'{key}' of {where} in the taxonomy needs both a Dutch (nl) and an English (en) text.",
            "Add the missing language.",
        )
    return {lang: " ".join(str(value[lang]).split()) for lang in value}


def parse_taxonomy(raw: dict, source: str, checksum: str) -> Taxonomy:
    labels = []
    for item in _require(raw, "labels", "the file"):
        key = str(_require(item, "key", "a label"))
        kind = str(_require(item, "kind", key))
        if kind not in LABEL_KINDS:
            raise ConfigurationError(f"Label '{key}' has kind '{kind}'.", f"Use one of: {', '.join(LABEL_KINDS)}.")
        cues = item.get("cues") or {}
        labels.append(
            Label(
                key=key,
                kind=kind,
                name=_bilingual(item, "name", key),
                description=_bilingual(item, "description", key),
                cues={lang: tuple(str(c) for c in cues.get(lang, [])) for lang in LANGUAGES},
            )
        )
    keys = [label.key for label in labels]
    if len(set(keys)) != len(keys):
        raise ConfigurationError("The taxonomy repeats a label key.", "Give every label its own key.")
    tones = tuple(
        Tone(
            key=str(_require(item, "key", "a tone")),
            name=_bilingual(item, "name", "a tone"),
            description=_bilingual(item, "description", "a tone"),
        )
        for item in _require(raw, "tones", "the file")
    )
    return Taxonomy(
        version=str(raw.get("version", "0")),
        checksum=checksum,
        labels=tuple(labels),
        tones=tones,
        kind_names={k: dict(v) for k, v in (raw.get("kinds") or {}).items()},
        source=source,
        title={k: str(v) for k, v in (raw.get("name") or {}).items()},
    )


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> Taxonomy:
    content = Path(path).read_bytes()
    try:
        raw = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise ConfigurationError(
            f"The taxonomy file {path} is not valid YAML ({exc.__class__.__name__}).",
            "Fix the indentation or quoting on the line it names.",
        ) from exc
    return parse_taxonomy(raw, path, hashlib.sha256(content).hexdigest())


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load and check a taxonomy file (default: ``data/taxonomy.yaml``)."""
    path = Path(path) if path else data_dir() / "taxonomy.yaml"
    if not path.is_file():
        raise ConfigurationError(
            f"The taxonomy file {path} does not exist.",
            "Pass an existing YAML file or set ANALYSER_DATA_DIR to the data folder.",
        )
    return _load_cached(str(path.resolve()), path.stat().st_mtime_ns)
