"""The application-layer answer inside a vehicle's reply (protocol.md, "Infotainment
application-layer responses", "VCSEC application-layer responses"): infotainment sends a
`CarServer.Response` whose `actionStatus` is OK or ERROR with a plain-text reason; VCSEC sends
an empty `FromVCSECMessage` for success and a `nominalError` for a refusal. A vehicle builds it
with `payload(domain, result, reason)`; a client reads it with `read(domain, payload)`.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from voltgate.sdk.vehicle_command.codes import Domain, OperationStatus
from voltgate.sdk.vehicle_command.errors import ResponseError
from voltgate.sdk.vehicle_command.schema import FromVCSECMessage, GenericError, Response

_CAR_SERVER_ERROR = 1  # CarServer.OperationStatus_E.OPERATIONSTATUS_ERROR


def payload(domain: Domain, result: bool, reason: str = "") -> bytes:
    """The answer a vehicle sends for a command it ran (`result`) or refused (`reason`)."""
    if domain == Domain.VEHICLE_SECURITY:
        message = FromVCSECMessage()
        if not result:
            known = GenericError.__members__.get(reason.upper())
            message.nominalError.genericError = known or GenericError.UNKNOWN
        return bytes(message.SerializeToString())
    response = Response()
    response.actionStatus.SetInParent()
    if not result:
        response.actionStatus.result = _CAR_SERVER_ERROR
        response.actionStatus.result_reason.plain_text = reason
    return bytes(response.SerializeToString())


def read(domain: Domain, data: bytes) -> tuple[bool, str]:
    """(result, reason) of a vehicle's answer: VCSEC's reasons are its generic error names in
    lower case (`vehicle_not_in_park`), a busy VCSEC is (False, "busy")."""
    kind = FromVCSECMessage if domain == Domain.VEHICLE_SECURITY else Response
    message = kind()
    try:
        message.ParseFromString(bytes(data))
    except (DecodeError, TypeError, ValueError) as exc:
        raise ResponseError(f"the vehicle's answer does not parse: {exc}") from None
    if domain == Domain.VEHICLE_SECURITY:
        if message.HasField("nominalError"):
            code = message.nominalError.genericError
            name = GenericError(code).name if code in GenericError._value2member_map_ else code
            return False, str(name).lower()
        if message.commandStatus.operationStatus == OperationStatus.WAIT:
            return False, "busy"
        return True, ""
    status = message.actionStatus
    if status.result == _CAR_SERVER_ERROR:
        return False, status.result_reason.plain_text
    return True, ""
