"""priorauth: IVIG prior-authorization paperwork, checked against coverage rules."""

__version__ = "0.1.0"
