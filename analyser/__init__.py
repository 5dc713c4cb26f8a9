"""Trust feedback analyser: label employee survey comments by trust dimension.

>>> from analyser import analyse
>>> result = analyse("survey.csv")
>>> result.comments[["id", "text", "dimensions", "areas", "tone"]]
"""

__version__ = "0.1.0"

from .errors import AnalyserError, ConfigurationError, InputError
from .pipeline import Analyser, AnalysisResult, Settings, analyse
from .taxonomy import load_taxonomy

__all__ = [
    "Analyser",
    "AnalyserError",
    "AnalysisResult",
    "ConfigurationError",
    "InputError",
    "Settings",
    "__version__",
    "analyse",
    "load_taxonomy",
]
