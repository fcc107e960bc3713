"""The vehicle-facing listener (`voltgate telemetry serve`): mTLS WebSockets speaking Fleet
Telemetry's protocol, acknowledging each message once it is stored."""
