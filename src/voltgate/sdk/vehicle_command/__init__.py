"""Tesla's vehicle command protocol, the client side: P-256 app keys, the session handshake,
HMAC-SHA256 command authentication and the mapping of REST commands to protobuf payloads
(teslamotors/vehicle-command's pkg/protocol/protocol.md). Imports nothing from the server.

    key = load_private_key(open("app.pem", "rb").read())
    signer = Signer(key)
    session = signer.session(vin, Domain.INFOTAINMENT)
    session.read(post_signed_command(vin, session.session_info_request()))
    reply = session.read(post_signed_command(vin, session.command("charge_start")))
    if reply.resync:  # e.g. the vehicle restarted: its reply carried the new session
        reply = session.read(post_signed_command(vin, session.command("charge_start")))
"""

from voltgate.sdk.vehicle_command.actions import COMMANDS, decode, domain_of, encode
from voltgate.sdk.vehicle_command.codes import RESYNC_FAULTS, Domain, Flag, MessageFault
from voltgate.sdk.vehicle_command.errors import (
    CommandBodyError,
    InvalidKey,
    NoSession,
    PayloadError,
    ResponseError,
    SessionInfoRejected,
    UnsupportedCommand,
    VehicleCommandError,
)
from voltgate.sdk.vehicle_command.keys import (
    generate_private_key,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_bytes,
    public_key_from_bytes,
    public_key_pem,
    session_key,
)
from voltgate.sdk.vehicle_command.session import Reply, Session, SessionState, Signer

__all__ = [
    "COMMANDS",
    "RESYNC_FAULTS",
    "CommandBodyError",
    "Domain",
    "Flag",
    "InvalidKey",
    "MessageFault",
    "NoSession",
    "PayloadError",
    "Reply",
    "ResponseError",
    "Session",
    "SessionInfoRejected",
    "SessionState",
    "Signer",
    "UnsupportedCommand",
    "VehicleCommandError",
    "decode",
    "domain_of",
    "encode",
    "generate_private_key",
    "load_private_key",
    "load_public_key",
    "private_key_pem",
    "public_bytes",
    "public_key_from_bytes",
    "public_key_pem",
    "session_key",
]
