"""Run the priorauth command as ``python -m priorauth``."""

from priorauth.cli import main

raise SystemExit(main())
