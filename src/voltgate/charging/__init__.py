"""Charging records: the sessions chargers report, one per (device, transaction id)."""
