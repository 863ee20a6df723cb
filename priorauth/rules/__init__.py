"""Coverage rules: load the definitions in forms/, evaluate a case against them."""

from .engine import evaluate
from .loader import DefinitionError, Library, load_library

__all__ = ["DefinitionError", "Library", "evaluate", "load_library"]
