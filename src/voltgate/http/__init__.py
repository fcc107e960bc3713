"""The HTTP adapter: the only code besides dialects and web/ that touches Starlette/FastAPI."""
