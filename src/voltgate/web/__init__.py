"""Server-rendered pages: sign-in, consent and connected apps (Jinja2, no third-party assets)."""
