"""Webhooks: an app's endpoint URLs, their signing secrets (sealed, rotated with overlap), the
outbox of deliveries written with each alert, and the worker that delivers them in order."""
