"""voltgate: an EV-charging and energy platform API built around one OAuth2/OIDC identity core."""

__version__ = "0.1.0"
