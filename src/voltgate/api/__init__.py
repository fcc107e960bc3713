"""voltgate's canonical JSON API (FastAPI routers)."""
