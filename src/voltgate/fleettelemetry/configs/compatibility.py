"""Which vehicles can take a telemetry config: the reasons Tesla's Fleet API gives for skipping
a vehicle (`missing_key`, `unsupported_hardware`, `unsupported_firmware`), decided from what
voltgate knows about the vehicle.

- `missing_key`: the vehicle must trust whoever configures it. A config signed as a JWS
  (`fleet_telemetry_config_jws`) is taken by a vehicle whose paired keys include the signer
  (`Vehicles.paired_keys`). An unsigned config is never taken by a vehicle that requires the
  command protocol (`command_signing: required`: it trusts only what a paired key signed);
  others take it when the app's key counts as paired (`KeyPairing`; `EveryVehiclePaired`, the
  default, says every vehicle is paired with every app's key until pairing is wired here).
- `unsupported_hardware`: fleet-telemetry publishes that "some older Model S/X are not
  supported" (the first car computer). The vehicle record has the model (`car_type`) and the
  VIN, whose 10th character is the model year; the rule here: a Model S or Model X of model
  year 2017 or earlier (year codes A to H: 2010 to 2017) is unsupported. Every other vehicle is.
- `unsupported_firmware`: Tesla needs firmware 2024.26 or later. The vehicle record carries no
  firmware version, so no vehicle is skipped for it.
"""

from __future__ import annotations

from typing import Protocol

from voltgate.vehicles.store import Vehicle

_OLD_HARDWARE_MODELS = frozenset({"models", "modelx"})
_OLD_HARDWARE_YEARS = frozenset("ABCDEFGH")  # VIN model year codes of 2010 to 2017
_MODEL_YEAR = 9  # the VIN's 10th character


class KeyPairing(Protocol):
    async def paired(self, client_id: str, vin: str) -> bool:
        """Whether the app's virtual key is paired with the vehicle."""


class EveryVehiclePaired:
    """Until voltgate has virtual keys: every app's key counts as paired with every vehicle."""

    async def paired(self, client_id: str, vin: str) -> bool:
        return True


def hardware_supported(vehicle: Vehicle) -> bool:
    return not (
        vehicle.car_type in _OLD_HARDWARE_MODELS and vehicle.vin[_MODEL_YEAR] in _OLD_HARDWARE_YEARS
    )


def firmware_supported(_vehicle: Vehicle) -> bool:
    """Always: the firmware version is not recorded."""
    return True
