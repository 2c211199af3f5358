"""Alembic migrations of the archive; the only way its schema changes."""
