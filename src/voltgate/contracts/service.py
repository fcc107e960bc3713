"""be.ENERGISED's charging preconditions: an active user, a valid contract, a payment method.

Everything belongs to one user (the signed-in contact): a row of another user does not
exist for them (NotFound, so ids do not leak). A contract is active once made (voltgate has
no approval step) and brings its payment method: a SEPA contract a `sepaAccount` (the IBAN
stored sealed, shown masked), a postpaid one an `invoice`. The user's first contract issues
their charging card. Every write has committed when a method returns.
"""

from __future__ import annotations

from voltgate.clock import Clock
from voltgate.contracts import bank, cards
from voltgate.contracts.rates import RATES, RateOption, rate_of
from voltgate.contracts.schemas import SepaDetails, checked
from voltgate.contracts.store import (
    Card,
    CardTaken,
    Contract,
    ContractKind,
    ContractStore,
    PaymentMethod,
    PaymentType,
    new_uuid,
)
from voltgate.errors import (
    ContractRequired,
    NotFound,
    PaymentMethodRequired,
    UserInactive,
)
from voltgate.identity.secrets import Crypto
from voltgate.identity.users import Users

ACTIVE = "active"
_SEAL_CONTEXT = "contract-iban:"  # + the contract's id: a sealed IBAN opens only for its contract
_MAX_ID = 64


def _plain(value: str) -> bool:
    """An id worth looking up (no NUL, which PostgreSQL refuses in text)."""
    return "\x00" not in value and len(value) <= _MAX_ID


class Contracts:
    def __init__(self, store: ContractStore, users: Users, crypto: Crypto, clock: Clock) -> None:
        self._store = store
        self._users = users
        self._crypto = crypto
        self._clock = clock

    @staticmethod
    def rate_options() -> tuple[RateOption, ...]:
        """The rates a contract can be made with (`contractRateOptions`)."""
        return RATES

    async def create_sepa(
        self, user_id: str, details: SepaDetails, application_id: str | None = None
    ) -> Contract:
        """A contract paid by SEPA direct debit from the IBAN given (`createSepaContract`);
        ValidationFailed naming the field (rateId, iban, bic, accountHolder, bank, debitType)."""
        sepa = checked(details, rate_of(details.rate_id).id)
        contract_id = new_uuid()
        sealed = self._crypto.envelope.seal(sepa.iban.encode(), _SEAL_CONTEXT + contract_id)
        contract = Contract(
            id=contract_id,
            user_id=user_id,
            kind=ContractKind.SEPA,
            rate_id=sepa.rate_id,
            status=ACTIVE,
            payment_method_id=new_uuid(),
            account_holder=sepa.account_holder,
            bank=sepa.bank,
            bic=sepa.bic,
            iban_masked=bank.masked(sepa.iban),
            debit_type=sepa.debit_type,
            use_parent=sepa.use_parent,
            created_at=self._clock.now(),
        )
        return await self._add(contract, sealed, PaymentType.SEPA, application_id)

    async def create_postpaid(
        self, user_id: str, rate_id: str, application_id: str | None = None
    ) -> Contract:
        """A contract paid by monthly invoice (`createPostpaidContract`)."""
        contract = Contract(
            id=new_uuid(),
            user_id=user_id,
            kind=ContractKind.POSTPAID,
            rate_id=rate_of(rate_id).id,
            status=ACTIVE,
            payment_method_id=new_uuid(),
            account_holder=None,
            bank=None,
            bic=None,
            iban_masked=None,
            debit_type=None,
            use_parent=False,
            created_at=self._clock.now(),
        )
        return await self._add(contract, None, PaymentType.INVOICE, application_id)

    async def contracts(self, user_id: str) -> list[Contract]:
        """The user's contracts, oldest first."""
        return await self._store.contracts(user_id)

    async def payment_methods(self, user_id: str) -> list[PaymentMethod]:
        """The user's active payment methods, oldest first (`contractPaymentMethods`)."""
        return [m for m in await self._store.payment_methods(user_id) if m.active]

    async def revoke_payment_method(self, user_id: str, method_id: str) -> PaymentMethod:
        """Withdraw a payment method (a SEPA mandate revoked): its contract stays, but the user
        cannot charge until another payment method exists. NotFound for another user's or an
        already revoked one."""
        if _plain(method_id) and await self._store.revoke(user_id, method_id, self._clock.now()):
            for method in await self._store.payment_methods(user_id):
                if method.id == method_id:
                    return method
        raise NotFound(f"no active payment method {method_id[:_MAX_ID]!r}")

    async def cards(self, user_id: str) -> list[Card]:
        """The user's charging cards, usable or not, in the order issued."""
        return await self._store.cards(user_id)

    async def usable_cards(self, user_id: str) -> list[Card]:
        """The user's cards that may start a charge now: active and not expired."""
        now = self._clock.now()
        return [card for card in await self._store.cards(user_id) if card.usable_at(now)]

    async def check_ready(self, user_id: str) -> None:
        """The preconditions of charging, in this order: an active user (UserInactive), an
        active contract (ContractRequired), an active payment method (PaymentMethodRequired)."""
        user = await self._users.find(user_id)
        if user is None or user.disabled_at is not None:
            raise UserInactive("the user's account is not active: it may not charge")
        if not any(c.status == ACTIVE for c in await self._store.contracts(user_id)):
            raise ContractRequired(
                "charging needs a valid contract: create one (createSepaContract or "
                "createPostpaidContract) first"
            )
        if not await self.payment_methods(user_id):
            raise PaymentMethodRequired("charging needs a payment method: the user has none active")

    async def card(self, user_id: str, tag_id: str) -> Card:
        """The user's usable card with this RFID UID (any case); NotFound otherwise."""
        tag = tag_id.strip().upper()
        for card in await self.usable_cards(user_id):
            if card.tag_id == tag:
                return card
        raise NotFound(f"no usable charging card {tag_id[:_MAX_ID]!r} of this user")

    async def _add(
        self,
        contract: Contract,
        sealed: str | None,
        payment_type: PaymentType,
        application_id: str | None,
    ) -> Contract:
        if await self._users.find(contract.user_id) is None:
            raise NotFound(f"no user {contract.user_id[:_MAX_ID]!r}")
        now = contract.created_at
        method = PaymentMethod(
            id=contract.payment_method_id,
            user_id=contract.user_id,
            payment_type=payment_type,
            application_id=application_id,
            contract_id=contract.id,
            created_at=now,
            revoked_at=None,
        )
        held = await self._store.cards(contract.user_id)
        card = None if held else cards.issue(contract.user_id, 1, now)
        try:
            await self._store.add(contract, sealed, method, card)
        except CardTaken:  # a contract made at the same moment issued the first card
            await self._store.add(contract, sealed, method, None)
        return contract
