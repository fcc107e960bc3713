"""What the vehicle command SDK raises. Each error that a vehicle would answer with a protocol
fault carries that fault, so the vehicle side can turn it into its reply."""

from __future__ import annotations

from voltgate.sdk.vehicle_command.codes import MessageFault


class VehicleCommandError(Exception):
    """Base of every error below."""

    fault = MessageFault.BAD_PARAMETER


class InvalidKey(VehicleCommandError):
    """A key that is not a NIST P-256 key in the expected encoding."""


class UnsupportedCommand(VehicleCommandError):
    """A command name (client side) or a protobuf action (vehicle side) that voltgate does not
    map; the vehicle answers it with INVALID_COMMAND."""

    fault = MessageFault.INVALID_COMMAND


class CommandBodyError(VehicleCommandError, ValueError):
    """A REST command body that cannot be put into the command's protobuf (missing field, wrong
    JSON type, a number outside the field's range, an unknown field)."""


class PayloadError(VehicleCommandError):
    """A command payload that does not parse as the domain's protobuf."""

    fault = MessageFault.DECODING


class NoSession(VehicleCommandError):
    """Signing before the vehicle's session info has been received and verified."""


class SessionInfoRejected(VehicleCommandError):
    """Session info the client must discard: a wrong HMAC tag, a request uuid it did not send
    (or sent too long ago), another vehicle key, or a clock older than one already seen."""

    fault = MessageFault.INVALID_SIGNATURE


class ResponseError(VehicleCommandError):
    """A vehicle reply that is not for this session or cannot be read."""
