"""Commands: operators' instructions to their chargers (start, stop, V2G discharge, schedules,
flexibility), their delivery over the charger channel (heartbeat, long-poll) and lifecycle."""
