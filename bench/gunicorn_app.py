"""The app as ``bench/web_scale.py`` serves it under gunicorn: its database, its day, its key.

Configured from the environment the benchmark sets, so that every worker of
one server reads the same database, dates letters the same day and signs
sessions with the same key.
"""

from __future__ import annotations

import datetime as dt
import os

from priorauth.web import create_app

app = create_app(
    {
        "PRIORAUTH_DATABASE_URL": os.environ["PRIORAUTH_BENCH_DATABASE_URL"],
        "PRIORAUTH_TODAY": dt.date.fromisoformat(os.environ["PRIORAUTH_BENCH_TODAY"]),
        "SECRET_KEY": os.environ["PRIORAUTH_BENCH_SECRET_KEY"],
        "SESSION_COOKIE_SECURE": False,
    }
)
