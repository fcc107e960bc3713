"""Persistence: schema, engine and migrations for SQLite (embedded) and PostgreSQL."""
