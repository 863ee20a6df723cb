"""Persistence: organizations, users, cases, stored documents and the audit trail.

SQLAlchemy 2 models; schema changes go through the Alembic migrations packaged
under ``migrations/``. The store keeps JSON produced by the domain layer and
does not import it, so the web app and the CLI are its only callers.
"""
