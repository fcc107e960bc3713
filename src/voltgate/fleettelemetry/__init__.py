"""Fleet Telemetry: vehicles streaming signals to voltgate."""
