"""The HTTP adapter: routing, request parsing, guards, limits and the OpenAPI document
(Starlette only at the edges)."""
