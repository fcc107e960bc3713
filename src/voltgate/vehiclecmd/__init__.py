"""Simulated vehicles' side of Tesla's vehicle command protocol: session info answers and
signed-command verification (see verifier.py)."""

from voltgate.vehiclecmd.counters import WINDOW, Counter
from voltgate.vehiclecmd.state import DomainState, VerifierState
from voltgate.vehiclecmd.verifier import (
    Accepted,
    Answered,
    Exchange,
    Refused,
    VehicleVerifier,
    derive_vehicle_key,
)

__all__ = [
    "WINDOW",
    "Accepted",
    "Answered",
    "Counter",
    "DomainState",
    "Exchange",
    "Refused",
    "VehicleVerifier",
    "VerifierState",
    "derive_vehicle_key",
]
