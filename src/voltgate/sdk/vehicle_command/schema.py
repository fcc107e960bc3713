"""The vehicle command protocol's protobuf messages, built at import from descriptors written
here (no protoc), in a descriptor pool of their own.

Packages, message names, field names, numbers and types are those of
teslamotors/vehicle-command's pkg/protocol/protobuf/{universal_message, signatures, car_server,
common, vcsec, errors}.proto, so the bytes are the published ones. universal_message and
signatures are complete; car_server and vcsec hold the subset voltgate's commands use (a field
left out is kept as an unknown field, so a message carrying it still parses).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import Any

from google.protobuf import (  # type: ignore[import-untyped]
    descriptor_pb2,
    descriptor_pool,
    message_factory,
)

from voltgate.sdk.vehicle_command.codes import (
    Domain,
    Flag,
    MessageFault,
    OperationStatus,
    SessionInfoStatus,
    SignatureType,
    Tag,
)

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "bytes": _F.TYPE_BYTES,
    "string": _F.TYPE_STRING,
    "bool": _F.TYPE_BOOL,
    "int32": _F.TYPE_INT32,
    "sint32": _F.TYPE_SINT32,
    "uint32": _F.TYPE_UINT32,
    "uint64": _F.TYPE_UINT64,
    "fixed32": _F.TYPE_FIXED32,
    "float": _F.TYPE_FLOAT,
}
_PACKAGES = ("UniversalMessage", "Signatures", "CarServer", "VCSEC", "Errors")
_POOL = descriptor_pool.DescriptorPool()
_ENUMS: set[str] = set()


class _File:
    def __init__(self, name: str, package: str, *deps: str) -> None:
        self.package = package
        self.proto = descriptor_pb2.FileDescriptorProto(
            name=name, package=package, syntax="proto3", dependency=list(deps)
        )

    def enum(self, name: str, values: Iterable[tuple[str, int]]) -> None:
        enum = self.proto.enum_type.add(name=name)
        for value_name, number in values:
            enum.value.add(name=value_name, number=number)
        _ENUMS.add(f"{self.package}.{name}")

    def message(
        self,
        name: str,
        fields: Iterable[tuple[Any, ...]] = (),  # (name, number, type[, oneof])
        nested: Iterable[tuple[str, Iterable[tuple[Any, ...]]]] = (),
        parent: Any = None,
    ) -> None:
        container = self.proto.message_type if parent is None else parent.nested_type
        message = container.add(name=name)
        for nested_name, nested_fields in nested:
            self.message(nested_name, nested_fields, parent=message)
        oneofs: dict[str, int] = {}
        for name_, number, kind, *oneof in fields:
            repeated = kind.startswith("repeated ")
            field = message.field.add(
                name=name_,
                number=number,
                label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL,
            )
            self._type(field, kind.removeprefix("repeated "))
            if oneof:
                if oneof[0] not in oneofs:
                    oneofs[oneof[0]] = len(message.oneof_decl)
                    message.oneof_decl.add(name=oneof[0])
                field.oneof_index = oneofs[oneof[0]]

    def _type(self, field: Any, kind: str) -> None:
        if kind in _SCALARS:
            field.type = _SCALARS[kind]
            return
        full = kind if kind.split(".")[0] in _PACKAGES else f"{self.package}.{kind}"
        field.type = _F.TYPE_ENUM if full in _ENUMS else _F.TYPE_MESSAGE
        field.type_name = f".{full}"

    def build(self) -> None:
        _POOL.Add(self.proto)


def _values(prefix: str, enum: type[IntEnum]) -> list[tuple[str, int]]:
    return [(prefix + member.name, member.value) for member in enum]


def _signatures() -> None:
    f = _File("signatures.proto", "Signatures")
    f.enum("Tag", _values("TAG_", Tag))
    f.enum("SignatureType", _values("SIGNATURE_TYPE_", SignatureType))
    f.enum("Session_Info_Status", _values("SESSION_INFO_STATUS_", SessionInfoStatus))
    f.message(
        "KeyIdentity",
        (("public_key", 1, "bytes", "identity_type"), ("handle", 3, "uint32", "identity_type")),
    )
    f.message(
        "AES_GCM_Personalized_Signature_Data",
        (
            ("epoch", 1, "bytes"),
            ("nonce", 2, "bytes"),
            ("counter", 3, "uint32"),
            ("expires_at", 4, "fixed32"),
            ("tag", 5, "bytes"),
        ),
    )
    f.message(
        "AES_GCM_Response_Signature_Data",
        (("nonce", 1, "bytes"), ("counter", 2, "uint32"), ("tag", 3, "bytes")),
    )
    f.message("HMAC_Signature_Data", (("tag", 1, "bytes"),))
    f.message(
        "HMAC_Personalized_Signature_Data",
        (
            ("epoch", 1, "bytes"),
            ("counter", 2, "uint32"),
            ("expires_at", 3, "fixed32"),
            ("tag", 4, "bytes"),
        ),
    )
    f.message(
        "SignatureData",
        (
            ("signer_identity", 1, "KeyIdentity"),
            ("AES_GCM_Personalized_data", 5, "AES_GCM_Personalized_Signature_Data", "sig_type"),
            ("session_info_tag", 6, "HMAC_Signature_Data", "sig_type"),
            ("HMAC_Personalized_data", 8, "HMAC_Personalized_Signature_Data", "sig_type"),
            ("AES_GCM_Response_data", 9, "AES_GCM_Response_Signature_Data", "sig_type"),
        ),
    )
    f.message("GetSessionInfoRequest", (("key_identity", 1, "KeyIdentity"),))
    f.message(
        "SessionInfo",
        (
            ("counter", 1, "uint32"),
            ("publicKey", 2, "bytes"),
            ("epoch", 3, "bytes"),
            ("clock_time", 4, "fixed32"),
            ("status", 5, "Session_Info_Status"),
            ("handle", 6, "uint32"),
        ),
    )
    f.build()


def _universal_message() -> None:
    f = _File("universal_message.proto", "UniversalMessage", "signatures.proto")
    f.enum("Domain", _values("DOMAIN_", Domain))
    f.enum("OperationStatus_E", _values("OPERATIONSTATUS_", OperationStatus))
    f.enum("MessageFault_E", _values("MESSAGEFAULT_ERROR_", MessageFault))
    f.enum("Flags", _values("FLAG_", Flag))
    f.message(
        "Destination",
        (
            ("domain", 1, "Domain", "sub_destination"),
            ("routing_address", 2, "bytes", "sub_destination"),
        ),
    )
    f.message(
        "MessageStatus",
        (
            ("operation_status", 1, "OperationStatus_E"),
            ("signed_message_fault", 2, "MessageFault_E"),
        ),
    )
    f.message("SessionInfoRequest", (("public_key", 1, "bytes"), ("challenge", 2, "bytes")))
    f.message(
        "RoutableMessage",
        (
            ("to_destination", 6, "Destination"),
            ("from_destination", 7, "Destination"),
            ("protobuf_message_as_bytes", 10, "bytes", "payload"),
            ("signedMessageStatus", 12, "MessageStatus"),
            ("signature_data", 13, "Signatures.SignatureData", "sub_sigData"),
            ("session_info_request", 14, "SessionInfoRequest", "payload"),
            ("session_info", 15, "bytes", "payload"),
            ("request_uuid", 50, "bytes"),
            ("uuid", 51, "bytes"),
            ("flags", 52, "uint32"),
        ),
    )
    f.build()


def _car_server() -> None:
    f = _File("car_server.proto", "CarServer")
    f.enum("OperationStatus_E", (("OPERATIONSTATUS_OK", 0), ("OPERATIONSTATUS_ERROR", 1)))
    f.message("Void")  # common.proto
    empty = (
        "ChargePortDoorOpen",
        "ChargePortDoorClose",
        "VehicleControlFlashLightsAction",
        "VehicleControlHonkHornAction",
    )
    for name in empty:
        f.message(name)
    f.message("ChargingSetLimitAction", (("percent", 1, "int32"),))
    f.message(
        "ChargingStartStopAction",
        [
            (name, number, "Void", "charging_action")
            for name, number in (
                ("unknown", 1),
                ("start", 2),
                ("start_standard", 3),
                ("start_max_range", 4),
                ("stop", 5),
            )
        ],
    )
    f.message("HvacAutoAction", (("power_on", 1, "bool"), ("manual_override", 2, "bool")))
    f.message(
        "HvacSetPreconditioningMaxAction", (("on", 1, "bool"), ("manual_override", 2, "bool"))
    )
    levels = (("TEMP_UNKNOWN", 1), ("TEMP_MIN", 2), ("TEMP_MAX", 3))
    f.message(
        "HvacTemperatureAdjustmentAction",
        (
            ("delta_celsius", 1, "float"),
            ("delta_percent", 2, "sint32"),
            ("absolute_celsius", 3, "float"),
            ("level", 5, "HvacTemperatureAdjustmentAction.Temperature"),
            ("driver_temp_celsius", 6, "float"),
            ("passenger_temp_celsius", 7, "float"),
        ),
        nested=(("Temperature", [(n, i, "Void", "type") for n, i in levels]),),
    )
    f.message("ScheduledChargingAction", (("enabled", 1, "bool"), ("charging_time", 2, "int32")))
    f.message("SetChargingAmpsAction", (("charging_amps", 1, "int32"),))
    f.message(
        "ChargeSchedule",  # common.proto
        (
            ("id", 1, "uint64"),
            ("name", 2, "string"),
            ("days_of_week", 3, "int32"),
            ("start_enabled", 4, "bool"),
            ("start_time", 5, "int32"),
            ("end_enabled", 6, "bool"),
            ("end_time", 7, "int32"),
            ("one_time", 8, "bool"),
            ("enabled", 9, "bool"),
            ("latitude", 10, "float"),
            ("longitude", 11, "float"),
        ),
    )
    f.message("RemoveChargeScheduleAction", (("id", 1, "uint64"),))
    f.message("VehicleAction", [(*a, "vehicle_action_msg") for a in VEHICLE_ACTIONS])
    f.message("Action", (("vehicleAction", 2, "VehicleAction", "action_msg"),))
    f.message("ResultReason", (("plain_text", 1, "string", "reason"),))
    f.message(
        "ActionStatus",
        (("result", 1, "OperationStatus_E"), ("result_reason", 2, "ResultReason")),
    )
    f.message("Response", (("actionStatus", 1, "ActionStatus"),))
    f.build()


# The `VehicleAction` members voltgate maps (car_server.proto's numbers).
VEHICLE_ACTIONS = (
    ("chargingSetLimitAction", 5, "ChargingSetLimitAction"),
    ("chargingStartStopAction", 6, "ChargingStartStopAction"),
    ("hvacAutoAction", 10, "HvacAutoAction"),
    ("hvacSetPreconditioningMaxAction", 12, "HvacSetPreconditioningMaxAction"),
    ("hvacTemperatureAdjustmentAction", 14, "HvacTemperatureAdjustmentAction"),
    ("vehicleControlFlashLightsAction", 26, "VehicleControlFlashLightsAction"),
    ("vehicleControlHonkHornAction", 27, "VehicleControlHonkHornAction"),
    ("scheduledChargingAction", 41, "ScheduledChargingAction"),
    ("setChargingAmpsAction", 43, "SetChargingAmpsAction"),
    ("chargePortDoorClose", 61, "ChargePortDoorClose"),
    ("chargePortDoorOpen", 62, "ChargePortDoorOpen"),
    ("addChargeScheduleAction", 97, "ChargeSchedule"),
    ("removeChargeScheduleAction", 98, "RemoveChargeScheduleAction"),
)


class RKEAction(IntEnum):
    """`VCSEC.RKEAction_E`."""

    UNLOCK = 0
    LOCK = 1
    REMOTE_DRIVE = 20
    AUTO_SECURE_VEHICLE = 29
    WAKE_VEHICLE = 30


class GenericError(IntEnum):
    """`Errors.GenericError_E`: VCSEC's application-layer refusals."""

    NONE = 0
    UNKNOWN = 1
    CLOSURES_OPEN = 2
    ALREADY_ON = 3
    DISABLED_FOR_USER_COMMAND = 4
    VEHICLE_NOT_IN_PARK = 5
    UNAUTHORIZED = 6
    NOT_ALLOWED_OVER_TRANSPORT = 7


def _vcsec() -> None:
    errors = _File("errors.proto", "Errors")
    errors.enum("GenericError_E", _values("GENERICERROR_", GenericError))
    errors.message("NominalError", (("genericError", 1, "GenericError_E"),))
    errors.build()
    f = _File("vcsec.proto", "VCSEC", "errors.proto")
    f.enum("RKEAction_E", _values("RKE_ACTION_", RKEAction))
    f.enum("OperationStatus_E", _values("OPERATIONSTATUS_", OperationStatus))
    f.message("UnsignedMessage", (("RKEAction", 2, "RKEAction_E", "sub_message"),))
    f.message("CommandStatus", (("operationStatus", 1, "OperationStatus_E"),))
    f.message(
        "FromVCSECMessage",
        (
            ("commandStatus", 4, "CommandStatus", "sub_message"),
            ("nominalError", 46, "Errors.NominalError", "sub_message"),
        ),
    )
    f.build()


def _class(full_name: str) -> Any:
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(full_name))


_signatures()
_universal_message()
_car_server()
_vcsec()

RoutableMessage: Any = _class("UniversalMessage.RoutableMessage")
SessionInfo: Any = _class("Signatures.SessionInfo")
Action: Any = _class("CarServer.Action")
Response: Any = _class("CarServer.Response")
UnsignedMessage: Any = _class("VCSEC.UnsignedMessage")
FromVCSECMessage: Any = _class("VCSEC.FromVCSECMessage")
