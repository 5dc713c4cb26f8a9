"""Trust feedback analyser: label employee survey comments by trust dimension.

>>> from analyser import analyse
>>> result = analyse("survey.csv")
>>> result.comments[["id", "text", "dimensions", "areas", "tone"]]
"""

__version__ = "0.1.0"

from .errors import AnalyserError, ConfigurationError, InputError  # noqa: E402
from .pipeline import AnalysisResult, Analyser, Settings, analyse  # noqa: E402
from .taxonomy import load_taxonomy  # noqa: E402

__all__ = [
    "AnalyserError",
    "AnalysisResult",
    "Analyser",
    "ConfigurationError",
    "InputError",
    "Settings",
    "analyse",
    "load_taxonomy",
    "__version__",
]
