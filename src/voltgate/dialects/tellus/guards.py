"""Who may call the Tellus routes: an operator token (`read` lists and shows, `write` creates
and controls) or a charger's device token. Commands are signed when the client signs (routine:
mode `required`; sensitive: `optional` too); a charger signs whatever its mode asks."""

from __future__ import annotations

from voltgate.http.guards import Guard, Signing
from voltgate.identity.clients import ClientKind

_OPERATOR = (ClientKind.OPERATOR.value,)
READER = Guard(kinds=_OPERATOR, scopes=("read",))
WRITER = Guard(kinds=_OPERATOR, scopes=("write",))
ROUTINE = WRITER.signed(Signing.ROUTINE)
SENSITIVE = WRITER.signed(Signing.SENSITIVE)
DEVICE = Guard(kinds=(ClientKind.DEVICE.value,))
SIGNED_DEVICE = DEVICE.signed(Signing.ROUTINE)
