"""A user's vehicles (Tesla dialect): state computed at read time, sessions, commands."""
