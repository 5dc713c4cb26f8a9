"""Components by name, as in spaCy: a stage is swapped by configuration.

``make_classifier("zero-shot", encoder=...)`` returns a fresh, unfitted
component; new implementations register themselves with ``@register``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import ConfigurationError

_REGISTRIES: dict[str, dict[str, Callable[..., Any]]] = {
    "label_classifier": {},
    "tone_classifier": {},
}


def register(kind: str, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(factory: Callable[..., Any]) -> Callable[..., Any]:
        _REGISTRIES[kind][name] = factory
        return factory

    return decorator


def make(kind: str, name: str, **kwargs: Any) -> Any:
    try:
        factory = _REGISTRIES[kind][name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRIES.get(kind, {}))) or "none"
        raise ConfigurationError(
            f"There is no {kind.replace('_', ' ')} named '{name}'.", f"Choose one of: {known}."
        ) from None
    return factory(**kwargs)


def names(kind: str) -> list[str]:
    return sorted(_REGISTRIES[kind])
