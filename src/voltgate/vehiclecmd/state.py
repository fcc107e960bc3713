"""A vehicle's protocol state, as a snapshot that can be stored and restored: per domain the
epoch, when its clock started and each client key's counter. Vehicle keys are not part of it
(they are injected; see verifier.derive_vehicle_key)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from voltgate.sdk.vehicle_command.codes import Domain
from voltgate.vehiclecmd.counters import Counter


@dataclass(frozen=True, slots=True)
class DomainState:
    epoch: bytes  # 16 random bytes, new at every boot
    started_at: float  # the time (vehicle clock) at which this epoch's clock read 0
    counters: Mapping[bytes, Counter] = field(default_factory=dict)  # client public key → counter


@dataclass(frozen=True, slots=True)
class VerifierState:
    domains: Mapping[Domain, DomainState]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (bytes as hex)."""
        return {
            str(int(domain)): {
                "epoch": state.epoch.hex(),
                "started_at": state.started_at,
                "counters": {
                    key.hex(): [counter.highest, counter.window]
                    for key, counter in state.counters.items()
                },
            }
            for domain, state in self.domains.items()
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VerifierState:
        return cls(
            {
                Domain(int(domain)): DomainState(
                    bytes.fromhex(state["epoch"]),
                    float(state["started_at"]),
                    {
                        bytes.fromhex(key): Counter(int(highest), int(window))
                        for key, (highest, window) in state["counters"].items()
                    },
                )
                for domain, state in data.items()
            }
        )
