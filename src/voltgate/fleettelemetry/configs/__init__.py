"""Fleet Telemetry configs: what each app asked each vehicle to stream, and what the vehicle
runs (every app's config merged)."""
