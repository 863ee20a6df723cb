# syntax=docker/dockerfile:1
# priorauth: the web app served by gunicorn.
#
#   docker build -t priorauth .
#   docker run -p 8000:8000 -v priorauth-instance:/var/lib/priorauth priorauth
#
# The instance volume holds the SQLite database and the generated secret key;
# set PRIORAUTH_DATABASE_URL for PostgreSQL and PRIORAUTH_SECRET_KEY to supply a key.

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

# Migrate, then hand the process over to gunicorn so it receives the signals.
CMD ["sh", "-c", "priorauth db upgrade && exec gunicorn --bind 0.0.0.0:8000 --workers 2 --access-logfile - 'priorauth.web:create_app()'"]
