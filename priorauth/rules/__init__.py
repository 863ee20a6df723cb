"""Coverage rules: load the definitions in forms/, evaluate a case against them."""

from .engine import evaluate
from .library import Library, load_library
from .loader import DefinitionError

__all__ = ["DefinitionError", "Library", "evaluate", "load_library"]
