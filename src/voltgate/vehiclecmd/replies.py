"""The RoutableMessages a vehicle answers with: addressed back to the sender's routing address
from the domain, with the request's uuid as `request_uuid`; a refusal sets
`signedMessageStatus` (operation ERROR and the fault) and, for faults a client recovers from,
carries the vehicle's signed session info so the client can resynchronise."""

from __future__ import annotations

from typing import Any

from voltgate.sdk.vehicle_command.codes import Domain, MessageFault, OperationStatus
from voltgate.sdk.vehicle_command.schema import RoutableMessage


def to(request: Any, domain: Domain | int) -> Any:
    reply = RoutableMessage(request_uuid=request.uuid)
    if request.HasField("from_destination"):
        reply.to_destination.CopyFrom(request.from_destination)
    reply.from_destination.domain = domain
    return reply


def with_session_info(reply: Any, encoded_info: bytes, tag: bytes) -> Any:
    reply.session_info = encoded_info
    reply.signature_data.session_info_tag.tag = tag
    return reply


def with_fault(reply: Any, fault: MessageFault) -> Any:
    reply.signedMessageStatus.operation_status = OperationStatus.ERROR
    reply.signedMessageStatus.signed_message_fault = fault
    return reply


def with_payload(reply: Any, payload: bytes) -> Any:
    reply.protobuf_message_as_bytes = payload
    return reply
