"""Alembic migrations, one schema per domain."""
