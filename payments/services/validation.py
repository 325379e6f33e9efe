"""Validation of a payment before it is taken (reference §7.8.1; collection-services ``PaymentValidator``).

``payment_validate`` runs before the transaction, on unlocked reads, and collects every error it finds (the
reference's error map). ``bill_state_error`` is checked again under the bill lock by ``payment_create``: that
re-check is what stops two concurrent payments of one bill.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from billing_project.errors import DomainError, ValidationFailed
from billing_project.money import ZERO, MoneyError, exact_money, is_whole, money_sum, to_money
from billing_project.uuids import uuid_or_none
from bills.models import Bill, BillStatus
from bills.services import is_current
from demands.models import ConsumerAccount
from masters.access import Caller, require_role
from masters.models import Payer, TaxHeadCategory
from masters.selectors import business_services_for, payers_for, tax_heads_for
from payments.errors import (
    DUPLICATE_BILLID,
    INVALID_BILL,
    INVALID_BILL_AMOUNT,
    INVALID_BILL_BUSINESSSERVICE,
    INVALID_BILL_ID,
    INVALID_INST_DATE,
    INVALID_INST_NUMBER,
    INVALID_PAYMENTDETAIL,
    INVALID_PAYMENTMODE,
    PAYMENT_BELOW_MINIMUM,
    PAYMENT_PAYER_NOT_FOUND,
    PAYMENT_TENANT_REQUIRED,
    bill_already_paid,
    bill_expired,
    bill_paid_in_part,
)
from payments.models import PaymentMode
from payments.selectors import PAYMENT_ROLES
from payments.services.inputs import PaymentDetailInput, PaymentInput

# Modes paid with a physical or offline instrument: they need its number and date, and can bounce.
INSTRUMENT_MODES = frozenset(
    {PaymentMode.CHEQUE, PaymentMode.DD, PaymentMode.OFFLINE_NEFT, PaymentMode.OFFLINE_RTGS, PaymentMode.POSTAL_ORDER}
)
PAID_STATUSES = (BillStatus.PAID, BillStatus.PARTIALLY_PAID)


@dataclass(frozen=True)
class ServiceRules:
    """The payment rules of one business service (reference §3.1) and its advance head."""

    code: str
    collection_modes_not_allowed: frozenset[str]
    part_payment_allowed: bool
    is_advance_allowed: bool
    fractional_payment_allowed: bool
    advance_heads: frozenset[str]
    advance_tax_head: str | None
    min_amount_payable: Decimal | None = None


@dataclass(frozen=True)
class PaymentPlan:
    """What validation found out: the bills (by id, in detail order), their services' rules, the payer."""

    payment: PaymentInput
    bill_ids: tuple[uuid.UUID, ...]
    bills: dict[uuid.UUID, Bill]
    services: dict[str, ServiceRules]
    payer: Payer | None


class _Errors:
    def __init__(self) -> None:
        self.items: list[DomainError] = []

    def add(self, code: str, message: str) -> None:
        self.items.append(DomainError(code, message))

    def extend(self, error: DomainError) -> None:
        self.items.append(error)

    def raise_if_any(self) -> None:
        if len(self.items) == 1:
            raise self.items[0]
        if self.items:
            raise ValidationFailed(self.items)


def bill_state_error(bill: Bill, account: ConsumerAccount, at: dt.datetime) -> DomainError | None:
    """BILL_ALREADY_PAID for a paid bill; BILL_EXPIRED unless it is ACTIVE and current (not past its expiry,
    built from its account's present revision)."""
    if bill.status == BillStatus.PARTIALLY_PAID:
        return bill_paid_in_part(bill.pk, bill.consumer_code)
    if bill.status in PAID_STATUSES:
        return bill_already_paid(bill.pk)
    if not is_current(bill, account, at):
        return bill_expired(bill.pk)
    return None


def _exact_amount(value: Decimal) -> Decimal | None:
    """``value`` when it is an amount exact to the cent that fits the column (``exact_money``); else None."""
    try:
        return exact_money(value)
    except MoneyError:
        return None


def payment_validate(*, caller: Caller, payment: PaymentInput, at: dt.datetime) -> PaymentPlan:
    """Every rule that can be checked before the transaction, in the reference's order; all errors at once."""
    if not payment.tenant_code:
        raise DomainError(PAYMENT_TENANT_REQUIRED, "tenantId is mandatory")
    require_role(caller, payment.tenant_code, PAYMENT_ROLES, "take payments")
    if payment.payment_mode not in PaymentMode.values:
        raise DomainError(INVALID_PAYMENTMODE, "Invalid payment mode provided")
    if not payment.details:
        raise DomainError(INVALID_PAYMENTDETAIL, "A payment needs at least one payment detail")
    errors = _Errors()
    bill_ids = _bill_ids(payment.details, errors)
    _check_totals(payment, errors)
    errors.raise_if_any()

    bills = {
        bill.pk: bill
        for bill in Bill.objects.select_related("account", "tenant", "payer").filter(
            pk__in=bill_ids, tenant__code=payment.tenant_code
        )
    }
    missing = [str(bill_id) for bill_id in bill_ids if bill_id not in bills]
    if missing:
        raise DomainError(
            INVALID_BILL_ID, f"Bill ID provided does not exist or is in an invalid state: {', '.join(missing)}"
        )
    services = _service_rules(payment.tenant_code, {bill.business_service for bill in bills.values()})
    for detail, bill_id in zip(payment.details, bill_ids, strict=True):
        _check_detail(payment, detail, bills[bill_id], services.get(bills[bill_id].business_service), at, errors)
    if not any(payment.payment_mode in rules.collection_modes_not_allowed for rules in services.values()):
        _check_instrument(payment, errors)  # a mode's instrument matters only where the mode is allowed
    payer = _payer(payment, bills[bill_ids[0]], errors)
    errors.raise_if_any()
    return PaymentPlan(payment=payment, bill_ids=bill_ids, bills=bills, services=services, payer=payer)


def _bill_ids(details: Sequence[PaymentDetailInput], errors: _Errors) -> tuple[uuid.UUID, ...]:
    ids: list[uuid.UUID] = []
    seen: set[uuid.UUID] = set()
    for detail in details:
        bill_id = uuid_or_none(detail.bill_id)
        if bill_id is None:
            raise DomainError(
                INVALID_BILL_ID, f"Bill ID provided does not exist or is in an invalid state: {detail.bill_id}"
            )
        if bill_id in seen:
            errors.add(DUPLICATE_BILLID, f"The Bill id: {bill_id} is repeated for multiple payment details")
        seen.add(bill_id)
        ids.append(bill_id)
    return tuple(ids)


def _check_totals(payment: PaymentInput, errors: _Errors) -> None:
    """Amounts exact to the cent and not negative; the payment's totals are the sums of its details'."""
    dues: list[Decimal] = []
    paid: list[Decimal] = []
    for detail in payment.details:
        due = _exact_amount(detail.total_due)
        if due is None or due < ZERO:
            errors.add(
                INVALID_BILL_AMOUNT,
                f"Invalid bill amount {detail.total_due} for bill {detail.bill_id}: it must be a non-negative "
                "amount with at most two decimal places",
            )
        else:
            dues.append(due)
        amount = _exact_amount(detail.total_amount_paid)
        if amount is None or amount < ZERO:
            errors.add(
                INVALID_PAYMENTDETAIL,
                f"Invalid amount paid {detail.total_amount_paid} for bill {detail.bill_id}: it must be a "
                "non-negative amount with at most two decimal places",
            )
        else:
            paid.append(amount)
    if len(dues) == len(payment.details):
        total_due = _exact_amount(payment.total_due)
        if total_due is None or total_due != money_sum(dues):
            errors.add(
                INVALID_BILL_AMOUNT,
                f"The payment's totalDue {payment.total_due} is not the sum of its payment details' totalDue "
                f"{money_sum(dues)}",
            )
    if len(paid) == len(payment.details):
        total_paid = _exact_amount(payment.total_amount_paid)
        if total_paid is None or total_paid != money_sum(paid):
            errors.add(
                INVALID_PAYMENTDETAIL,
                f"The payment's totalAmountPaid {payment.total_amount_paid} is not the sum of its payment "
                f"details' totalAmountPaid {money_sum(paid)}",
            )


def _check_instrument(payment: PaymentInput, errors: _Errors) -> None:
    if payment.payment_mode not in INSTRUMENT_MODES:
        return
    if not payment.instrument_number.strip():
        errors.add(INVALID_INST_NUMBER, f"Instrument Number is mandatory for {payment.payment_mode}")
    if payment.instrument_date is None:
        errors.add(INVALID_INST_DATE, f"Instrument Date Input is mandatory for {payment.payment_mode}")


def _service_rules(tenant_code: str, codes: set[str]) -> dict[str, ServiceRules]:
    """The rules of the business services ``codes``: two queries (the services, then the advance heads of all of
    them), whatever the number of services."""
    services = list(business_services_for(tenant_code, codes=codes))
    heads_of: dict[str, list[str]] = {service.code: [] for service in services}
    if services:
        for service_code, code in tax_heads_for(
            tenant_code, services=list(heads_of), category=TaxHeadCategory.ADVANCE_COLLECTION
        ).values_list("service", "code"):
            heads_of[service_code].append(code)
    rules: dict[str, ServiceRules] = {}
    for service in services:
        advance_heads = sorted(heads_of[service.code])
        rules[service.code] = ServiceRules(
            code=service.code,
            collection_modes_not_allowed=frozenset(str(m) for m in service.collection_modes_not_allowed or ()),
            part_payment_allowed=service.part_payment_allowed,
            is_advance_allowed=service.is_advance_allowed,
            fractional_payment_allowed=service.fractional_payment_allowed,
            advance_heads=frozenset(advance_heads),
            advance_tax_head=advance_heads[0] if advance_heads else None,
            min_amount_payable=service.min_amount_payable,
        )
    return rules


def _check_detail(
    payment: PaymentInput,
    detail: PaymentDetailInput,
    bill: Bill,
    rules: ServiceRules | None,
    at: dt.datetime,
    errors: _Errors,
) -> None:
    """The reference's ``validatePaymentDetailAgainstBill`` for one payment detail."""
    if detail.business_service != bill.business_service:
        errors.add(
            INVALID_BILL_BUSINESSSERVICE,
            f"The business service {detail.business_service!r} of the payment detail is not the business service "
            f"{bill.business_service!r} of bill: {bill.pk}",
        )
        return
    if rules is None:
        errors.add(INVALID_BILL_BUSINESSSERVICE, f"Business service provided does not exist for bill: {bill.pk}")
        return
    state = bill_state_error(bill, bill.account, at)
    if state is not None:
        errors.extend(state)
        return
    due = to_money(detail.total_due)
    paid = to_money(detail.total_amount_paid)
    total = bill.total_amount
    if due != total:
        errors.add(
            INVALID_PAYMENTDETAIL,
            f"The amount to be paid is mismatching with bill for paymentDetial with bill id: {bill.pk}",
        )
    if payment.payment_mode in rules.collection_modes_not_allowed:
        errors.add(
            INVALID_PAYMENTDETAIL, f"The paymentMode: {payment.payment_mode} is not allowed for the bill: {bill.pk}"
        )
    if paid == ZERO and total > ZERO:
        errors.add(INVALID_PAYMENTDETAIL, f"A zero payment is only allowed for a zero bill; bill {bill.pk} is {total}")
    elif paid < total and not rules.part_payment_allowed:
        errors.add(INVALID_PAYMENTDETAIL, "The amount to be paid is less than amount due")
    elif paid < total and rules.min_amount_payable is not None and paid < rules.min_amount_payable:
        minimum = to_money(rules.min_amount_payable)
        errors.extend(
            DomainError(
                PAYMENT_BELOW_MINIMUM,
                f"The amount paid {paid} is below the minimum part payment {minimum} of {rules.code} for bill "
                f"{bill.pk}: pay at least {minimum} or the whole due {total}",
                params=[str(bill.pk)],
            )
        )
    if paid > total and not rules.is_advance_allowed:
        errors.add(INVALID_PAYMENTDETAIL, "The amount to be paid is more than amount due")
    if not rules.fractional_payment_allowed:
        if not is_whole(total):
            errors.add(INVALID_BILL, "The due amount cannot be fractional")
        if not is_whole(paid):
            errors.add(INVALID_PAYMENTDETAIL, "The amount paid cannot be fractional")


def _payer(payment: PaymentInput, first_bill: Bill, errors: _Errors) -> Payer | None:
    """The registered payer named by ``payer_id``, else the first bill's payer."""
    if payment.payer_id is None:
        return first_bill.payer
    payer = payers_for(payment.tenant_code).filter(pk=payment.payer_id).first()
    if payer is None:
        errors.add(PAYMENT_PAYER_NOT_FOUND, f"No payer {payment.payer_id} is registered in {payment.tenant_code}")
    return payer
