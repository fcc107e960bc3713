"""Sites: an operator's charging locations (name, address, position, timezone, grid limit)."""
