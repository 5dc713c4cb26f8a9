"""Errors that users can act on.

Every problem a user can fix (a wrong file, a missing column, an unknown
model) is raised as an :class:`AnalyserError` with a message that says what is
wrong and a hint that says what to do. The CLI prints both on one line and
exits with code 2; the web app shows them in the page. Anything else is a bug.
"""

from __future__ import annotations


class AnalyserError(Exception):
    """A problem with the user's input or settings, with a hint to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class InputError(AnalyserError):
    """The input file cannot be read as a survey export."""


class ConfigurationError(AnalyserError):
    """A setting names something that does not exist or cannot be loaded."""


class MissingDependencyError(ConfigurationError):
    """An optional dependency is needed for the chosen component."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the optional package '{package}', which is not installed.",
            f"Install it with: pip install -e '.[{extra}]' (or pip install {package}).",
        )
