"""The ``priorauth`` command: assess and render case files, check definitions, run the app.

Exit status: 0 when the command did what was asked, 1 when a check found
problems or a part of the application is unavailable, 2 when the input cannot
be used as given (a missing or malformed case file, a bad option). Bad input is
reported on stderr, one line per field, never as a traceback.

The modules: ``parser`` (the options and ``main``), ``casefile`` (reading a
case file and the definitions), ``assess`` (assess, render), ``documents`` (the
documents render writes), ``definitions`` (forms check, indications, facts,
schema, prices import), ``server`` (serve, db, accounts), ``records`` (verify,
audit) and ``console`` (exit statuses, errors, output).
"""

from .parser import build_parser, main

__all__ = ["build_parser", "main"]
