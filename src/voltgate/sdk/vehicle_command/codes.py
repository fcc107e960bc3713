"""The vehicle command protocol's numbers: domains, metadata tags, signature types, message
faults and flags, with the values of teslamotors/vehicle-command's universal_message.proto and
signatures.proto (the schema in `schema.py` is built from these same enums)."""

from __future__ import annotations

from enum import IntEnum


class Domain(IntEnum):
    """`UniversalMessage.Domain`: the vehicle subsystem a message is for."""

    BROADCAST = 0
    VEHICLE_SECURITY = 2  # VCSEC: locks, remote start, wake
    INFOTAINMENT = 3  # everything else (climate, charging, horn, lights …)


class Tag(IntEnum):
    """`Signatures.Tag`: the tag of each metadata item (protocol.md, "Metadata serialization")."""

    SIGNATURE_TYPE = 0
    DOMAIN = 1
    PERSONALIZATION = 2  # the VIN
    EPOCH = 3
    EXPIRES_AT = 4
    COUNTER = 5
    CHALLENGE = 6
    FLAGS = 7
    REQUEST_HASH = 8
    FAULT = 9
    END = 255


class SignatureType(IntEnum):
    """`Signatures.SignatureType`."""

    AES_GCM = 0
    AES_GCM_PERSONALIZED = 5
    HMAC = 6  # the session info tag
    HMAC_PERSONALIZED = 8  # command authentication (what Fleet API forwards)
    AES_GCM_RESPONSE = 9


class OperationStatus(IntEnum):
    """`UniversalMessage.OperationStatus_E`."""

    OK = 0
    WAIT = 1
    ERROR = 2


class SessionInfoStatus(IntEnum):
    """`Signatures.Session_Info_Status`."""

    OK = 0
    KEY_NOT_ON_WHITELIST = 1


class Flag(IntEnum):
    """`UniversalMessage.Flags`: bit numbers of `RoutableMessage.flags`."""

    USER_COMMAND = 0
    ENCRYPT_RESPONSE = 1


class MessageFault(IntEnum):
    """`UniversalMessage.MessageFault_E`: why a vehicle refused a message at the protocol layer
    (`RoutableMessage.signedMessageStatus.signed_message_fault`)."""

    NONE = 0
    BUSY = 1
    TIMEOUT = 2
    UNKNOWN_KEY_ID = 3
    INACTIVE_KEY = 4
    INVALID_SIGNATURE = 5
    INVALID_TOKEN_OR_COUNTER = 6
    INSUFFICIENT_PRIVILEGES = 7
    INVALID_DOMAINS = 8
    INVALID_COMMAND = 9
    DECODING = 10
    INTERNAL = 11
    WRONG_PERSONALIZATION = 12
    BAD_PARAMETER = 13
    KEYCHAIN_IS_FULL = 14
    INCORRECT_EPOCH = 15
    IV_INCORRECT_LENGTH = 16
    TIME_EXPIRED = 17
    NOT_PROVISIONED_WITH_IDENTITY = 18
    COULD_NOT_HASH_METADATA = 19
    TIME_TO_LIVE_TOO_LONG = 20
    REMOTE_ACCESS_DISABLED = 21
    REMOTE_SERVICE_ACCESS_DISABLED = 22
    COMMAND_REQUIRES_ACCOUNT_CREDENTIALS = 23
    REQUEST_MTU_EXCEEDED = 24
    RESPONSE_MTU_EXCEEDED = 25
    REPEATED_COUNTER = 26
    INVALID_KEY_HANDLE = 27
    REQUIRES_RESPONSE_ENCRYPTION = 28

    @property
    def description(self) -> str:
        return _DESCRIPTIONS.get(self, self.name.lower().replace("_", " "))


# Faults a client recovers from by updating its session from the reply's session info and
# sending again (the vehicle attaches signed session info to each of them).
RESYNC_FAULTS = frozenset(
    {
        MessageFault.INVALID_SIGNATURE,
        MessageFault.INVALID_TOKEN_OR_COUNTER,
        MessageFault.INCORRECT_EPOCH,
        MessageFault.TIME_EXPIRED,
        MessageFault.TIME_TO_LIVE_TOO_LONG,
        MessageFault.BAD_PARAMETER,
    }
)

_DESCRIPTIONS = {
    MessageFault.NONE: "accepted",
    MessageFault.BUSY: "the vehicle subsystem is busy; try again",
    MessageFault.UNKNOWN_KEY_ID: "the key is not paired with this vehicle",
    MessageFault.INACTIVE_KEY: "the key is disabled on this vehicle",
    MessageFault.INVALID_SIGNATURE: "the command's authentication tag is wrong",
    MessageFault.INVALID_TOKEN_OR_COUNTER: "the anti-replay counter was used before or is too old",
    MessageFault.INSUFFICIENT_PRIVILEGES: "the key's role may not send this command",
    MessageFault.INVALID_DOMAINS: "the message is addressed to a domain this vehicle lacks",
    MessageFault.INVALID_COMMAND: "the vehicle does not support this command",
    MessageFault.DECODING: "the message could not be parsed",
    MessageFault.WRONG_PERSONALIZATION: "the command is for another VIN",
    MessageFault.BAD_PARAMETER: "the message is malformed",
    MessageFault.INCORRECT_EPOCH: "the session is from another epoch (the vehicle restarted)",
    MessageFault.IV_INCORRECT_LENGTH: "the AES-GCM nonce is not 12 bytes",
    MessageFault.TIME_EXPIRED: "the command expired before the vehicle received it",
    MessageFault.TIME_TO_LIVE_TOO_LONG: "the command expires too far in the future",
}
