"""Client-side helpers for integrations and chargers; imports nothing from the server."""
