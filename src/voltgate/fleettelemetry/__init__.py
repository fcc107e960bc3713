"""Fleet Telemetry, vehicle side: the wire formats, the vehicles' CA, configs and the listener."""
