"""Charger telemetry and events: what chargers report every few seconds, batched into storage,
with each connector's latest reading kept in memory for the operator's views."""
