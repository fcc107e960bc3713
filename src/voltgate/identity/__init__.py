"""The OAuth2/OIDC protocol core. Nothing in this package imports a web framework."""
