# syntax=docker/dockerfile:1
# priorauth: the web app served by gunicorn.
#
#   docker build -t priorauth .
#   docker run -p 8000:8000 -v priorauth-instance:/var/lib/priorauth priorauth
#
# The instance volume holds the SQLite database, the generated secret key and audit
# key, and the audit anchors; set PRIORAUTH_DATABASE_URL for PostgreSQL,
# PRIORAUTH_SECRET_KEY and PRIORAUTH_AUDIT_KEY to supply keys, and
# PRIORAUTH_TRUSTED_PROXIES=1 behind one TLS-terminating proxy.

# One exact Python patch release for both stages.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY priorauth ./priorauth
COPY templates ./templates
COPY forms ./forms
# Wheels for priorauth and every dependency. The priorauth wheel carries
# templates/ and forms/ inside the package (pyproject's force-include), so the
# runtime stage needs no source tree.
RUN pip wheel --wheel-dir /wheels ".[postgres]"

FROM ${PYTHON_IMAGE} AS runtime
# WeasyPrint needs Pango and HarfBuzz; fontconfig and a font family back up the
# fonts bundled with the documents.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-liberation2 \
 && rm -rf /var/lib/apt/lists/*
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels "priorauth[postgres]"

RUN groupadd --system --gid 10001 priorauth \
 && useradd --system --uid 10001 --gid priorauth --create-home --home-dir /home/priorauth \
      --shell /usr/sbin/nologin priorauth \
 && install -d -o priorauth -g priorauth -m 0700 /var/lib/priorauth

ENV PRIORAUTH_INSTANCE_PATH=/var/lib/priorauth \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
VOLUME ["/var/lib/priorauth"]
USER priorauth
WORKDIR /home/priorauth
EXPOSE 8000

# Healthy when /healthz answers 200 (the app and its database respond). The slim
# image has no curl: Python's own client asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# Migrate, then hand the process over to gunicorn (`priorauth serve`) so it receives
# the signals. Workers: PRIORAUTH_WORKERS, else 2 x the container's cores + 1, at most 8.
CMD ["sh", "-c", "priorauth db upgrade && exec priorauth serve --host 0.0.0.0 --port 8000"]
