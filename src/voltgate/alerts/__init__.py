"""Alerts: an app's rules evaluated on the signal stream of its vehicles or chargers, the alerts
they fire (stored with their webhook deliveries in one transaction), and the API's listing."""
