"""Every refusal of payment_create, with its exact code, and nothing written (reference §7.8.1, §9)."""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal

import pytest

from billing_project.errors import DomainError, ValidationFailed
from bills.models import Bill, BillStatus
from bills.services import bill_cancel_one
from demands.services import demand_create
from masters.access import caller_for
from masters.models import BusinessService, Role
from payments.models import Payment
from payments.services import PaymentDetailInput, payment_create
from tests.payments.conftest import (
    AFTER_EXPIRY,
    AT,
    CITY,
    PAY_AT,
    PTAN2018_FROM,
    PTAN2018_TO,
    line,
    make_bill,
    pay,
    pay_input,
    pt_demand,
    state,
    wc_demand,
)

D = Decimal


@pytest.fixture
def bill(employee):
    return make_bill(employee, pt_demand(details=(line("PT_TAX", "1000"), line("PT_TIME_REBATE", "-50"))))


def refused(cashier, payment, *, at=PAY_AT) -> DomainError:
    """payment_create refuses ``payment``; the error, after checking that nothing at all was written."""
    before = state()
    with pytest.raises(DomainError) as error:
        payment_create(caller=cashier, payment=payment, at=at)
    assert state() == before
    return error.value


def with_detail(payment, **changes):
    return dataclasses.replace(payment, details=(dataclasses.replace(payment.details[0], **changes),))


def test_a_caller_without_a_payment_role_in_the_tenant_is_refused(bill, user_factory, employee):
    citizen = caller_for(user_factory("citizen", {CITY: [Role.CITIZEN]}))
    assert refused(citizen, pay_input(bill, "950")).code == "PERMISSION_DENIED"
    other_city = caller_for(user_factory("cashier-jal", {"pb.jalandhar": [Role.CASHIER]}))
    assert refused(other_city, pay_input(bill, "950")).code == "PERMISSION_DENIED"
    approver = caller_for(user_factory("approver", {CITY: [Role.AMENDMENT_APPROVER]}))
    assert refused(approver, pay_input(bill, "950")).code == "PERMISSION_DENIED"


@pytest.mark.parametrize("role", [Role.CASHIER, Role.EMPLOYEE, Role.BILLING_ADMIN, Role.SYSTEM])
def test_every_payment_role_may_take_a_payment(bill, user_factory, role):
    caller = caller_for(user_factory(f"user-{role}", {CITY: [role]}))
    assert pay(caller, bill, "950").total_amount_paid == D("950.00")


def test_a_tenant_is_mandatory(bill, cashier):
    assert refused(cashier, pay_input(bill, "950", tenant_code="")).code == "PAYMENT_TENANT_REQUIRED"


def test_an_unknown_payment_mode(bill, cashier):
    error = refused(cashier, pay_input(bill, "950", mode="BITCOIN"))
    assert (error.code, error.message) == ("INVALID_PAYMENTMODE", "Invalid payment mode provided")


def test_a_payment_without_details(bill, cashier):
    payment = dataclasses.replace(pay_input(bill, "950"), details=())
    assert refused(cashier, payment).code == "INVALID_PAYMENTDETAIL"


def test_one_bill_twice(bill, cashier):
    payment = pay_input(bill, "950")
    doubled = dataclasses.replace(
        payment, total_due=D("1900"), total_amount_paid=D("1900"), details=payment.details * 2
    )
    error = refused(cashier, doubled)
    assert (error.code, error.message) == (
        "DUPLICATE_BILLID",
        f"The Bill id: {bill.pk} is repeated for multiple payment details",
    )


@pytest.mark.parametrize("bill_id", [uuid.UUID(int=7), "not-a-uuid"])
def test_an_unknown_bill(bill, cashier, bill_id):
    error = refused(cashier, with_detail(pay_input(bill, "950"), bill_id=bill_id))
    assert error.code == "INVALID_BILL_ID"
    assert error.message.startswith("Bill ID provided does not exist or is in an invalid state")


def test_a_bill_of_another_tenant_is_unknown_here(employee, cashier, user_factory):
    jalandhar = caller_for(user_factory("emp-jal", {"pb.jalandhar": [Role.EMPLOYEE]}))
    demand_create(caller=jalandhar, demands=[pt_demand(tenant="pb.jalandhar")], at=AT)
    from bills.services.fetch import FetchCriteria, bill_fetch

    [foreign] = bill_fetch(
        caller=jalandhar,
        criteria=FetchCriteria(tenant_id="pb.jalandhar", business_service="PT", consumer_codes=("PT-107-001",)),
        at=AT,
    )
    assert refused(cashier, pay_input(foreign, "500")).code == "INVALID_BILL_ID"


def test_a_bill_past_its_expiry(bill, cashier):
    error = refused(cashier, pay_input(bill, "950"), at=AFTER_EXPIRY)
    assert (error.code, error.message) == ("BILL_EXPIRED", "Bill expired or invalid, regenerate bill!")


def test_a_bill_behind_its_account_revision(bill, cashier, employee):
    # A new demand for the consumer makes the bill stale (its revision is behind the account's).
    demand_create(caller=employee, demands=[pt_demand(period=(PTAN2018_FROM, PTAN2018_TO))], at=AT)
    assert Bill.objects.get(pk=bill.pk).status == BillStatus.ACTIVE
    assert refused(cashier, pay_input(bill, "950")).code == "BILL_EXPIRED"


def test_a_cancelled_bill(bill, cashier, employee):
    bill_cancel_one(caller=employee, bill_id=bill.pk, reason="OTHERS", reason_message="wrong owner", at=AT)
    assert refused(cashier, pay_input(bill, "950")).code == "BILL_EXPIRED"


def test_a_paid_bill(bill, cashier):
    pay(cashier, bill, "950")
    error = refused(cashier, pay_input(bill, "950"))
    assert (error.code, error.message) == ("BILL_ALREADY_PAID", "Bill has already been paid or is in pending state")


def test_a_bill_paid_in_part_says_a_new_bill_must_be_fetched_for_the_rest(bill, cashier):
    pay(cashier, bill, "500")
    error = refused(cashier, pay_input(bill, "450"))
    assert (error.code, error.message, error.params) == (
        "BILL_ALREADY_PAID",
        f"Bill {bill.pk} has been paid in part; the remaining dues of PT-107-001 are on a new bill: fetch the "
        "current bill and pay that one",
        [str(bill.pk)],
    )


def test_a_detail_of_another_business_service(bill, cashier):
    error = refused(cashier, pay_input(bill, "950", business_service="TL"))
    assert error.code == "INVALID_BILL_BUSINESSSERVICE"


def test_a_bill_whose_business_service_is_gone(bill, cashier):
    BusinessService.objects.filter(code="PT").delete()
    error = refused(cashier, pay_input(bill, "950"))
    assert (error.code, error.message) == (
        "INVALID_BILL_BUSINESSSERVICE",
        f"Business service provided does not exist for bill: {bill.pk}",
    )


def test_a_total_due_that_is_not_the_bill_total(bill, cashier):
    error = refused(cashier, pay_input(bill, "900", due="900"))
    assert (error.code, error.message) == (
        "INVALID_PAYMENTDETAIL",
        f"The amount to be paid is mismatching with bill for paymentDetial with bill id: {bill.pk}",
    )


def test_payment_totals_that_are_not_the_sums_of_the_details(bill, cashier):
    payment = pay_input(bill, "950")
    assert refused(cashier, dataclasses.replace(payment, total_due=D("951"))).code == "INVALID_BILL_AMOUNT"
    assert refused(cashier, dataclasses.replace(payment, total_amount_paid=D("900"))).code == "INVALID_PAYMENTDETAIL"


def test_negative_amounts(bill, cashier):
    payment = pay_input(bill, "950")
    negative_due = dataclasses.replace(with_detail(payment, total_due=D("-950")), total_due=D("-950"))
    assert refused(cashier, negative_due).code == "INVALID_BILL_AMOUNT"
    negative_paid = dataclasses.replace(with_detail(payment, total_amount_paid=D("-1")), total_amount_paid=D("-1"))
    assert refused(cashier, negative_paid).code == "INVALID_PAYMENTDETAIL"


def test_amounts_beyond_the_cent(bill, cashier):
    payment = pay_input(bill, "950")
    finer = dataclasses.replace(with_detail(payment, total_amount_paid=D("949.995")), total_amount_paid=D("949.995"))
    assert refused(cashier, finer).code == "INVALID_PAYMENTDETAIL"


def test_a_payment_mode_the_business_service_does_not_allow(bill, cashier):
    error = refused(cashier, pay_input(bill, "950", mode="DD"))
    assert (error.code, error.message) == (
        "INVALID_PAYMENTDETAIL",
        f"The paymentMode: DD is not allowed for the bill: {bill.pk}",
    )


def test_a_part_payment_below_the_services_minimum_is_refused(bill, cashier):
    """PT's minAmountPayable is 100 (seed): a part payment must be at least that (reference §3.1: the minimum of a
    part payment; enforced here, not only by a UI)."""
    error = refused(cashier, pay_input(bill, "50"))
    assert (error.code, error.message, error.params) == (
        "PAYMENT_BELOW_MINIMUM",
        f"The amount paid 50.00 is below the minimum part payment 100.00 of PT for bill {bill.pk}: pay at least "
        "100.00 or the whole due 950.00",
        [str(bill.pk)],
    )
    assert pay(cashier, bill, "100").total_amount_paid == D("100.00")


def test_a_bill_below_the_minimum_may_be_paid_whole(employee, cashier):
    small = make_bill(employee, pt_demand(details=(line("PT_TAX", "80"),)))
    assert refused(cashier, pay_input(small, "50")).code == "PAYMENT_BELOW_MINIMUM"
    assert pay(cashier, small, "80").total_amount_paid == D("80.00")


def test_without_a_minimum_any_part_payment_is_taken(bill, cashier):
    BusinessService.objects.filter(code="PT").update(min_amount_payable=None)
    assert pay(cashier, bill, "1").total_amount_paid == D("1.00")


def test_a_mode_the_service_does_not_allow_is_refused_before_its_instrument_is_checked(bill, cashier):
    error = refused(cashier, pay_input(bill, "950", mode="DD", instrument_number="", instrument_date=None))
    assert (error.code, error.message) == (
        "INVALID_PAYMENTDETAIL",
        f"The paymentMode: DD is not allowed for the bill: {bill.pk}",
    )


def test_a_zero_payment_of_a_bill_that_is_not_zero(bill, cashier):
    error = refused(cashier, pay_input(bill, "0"))
    assert error.code == "INVALID_PAYMENTDETAIL"
    assert error.message.startswith("A zero payment is only allowed for a zero bill")


def test_part_payment_where_the_service_does_not_allow_it(employee, cashier, wc_masters):
    bill = make_bill(employee, wc_demand())
    error = refused(cashier, pay_input(bill, "999"))
    assert (error.code, error.message) == ("INVALID_PAYMENTDETAIL", "The amount to be paid is less than amount due")


def test_more_than_due_where_the_service_does_not_allow_advance(bill, cashier):
    error = refused(cashier, pay_input(bill, "951"))
    assert (error.code, error.message) == ("INVALID_PAYMENTDETAIL", "The amount to be paid is more than amount due")


def test_fractional_amounts_unless_the_service_allows_them(employee, cashier):
    bill = make_bill(employee, pt_demand(details=(line("PT_TAX", "1000.50"),)))
    error = refused(cashier, pay_input(bill, "1000.50"))
    assert isinstance(error, ValidationFailed)
    assert error.code == "INVALID_BILL"
    assert error.fields == {
        "INVALID_BILL": ["The due amount cannot be fractional"],
        "INVALID_PAYMENTDETAIL": ["The amount paid cannot be fractional"],
    }
    whole_bill = make_bill(employee, pt_demand("PT-107-002", details=(line("PT_TAX", "1000"),)))
    error = refused(cashier, pay_input(whole_bill, "500.50"))
    assert (error.code, error.message) == ("INVALID_PAYMENTDETAIL", "The amount paid cannot be fractional")

    BusinessService.objects.filter(code="PT").update(fractional_payment_allowed=True)
    assert pay(cashier, bill, "1000.50").total_amount_paid == D("1000.50")


@pytest.mark.parametrize("mode", ["CHEQUE", "DD", "OFFLINE_NEFT", "OFFLINE_RTGS", "POSTAL_ORDER"])
def test_instruments_need_a_number_and_a_date(bill, cashier, mode):
    BusinessService.objects.filter(code="PT").update(collection_modes_not_allowed=[])
    error = refused(cashier, pay_input(bill, "950", mode=mode, instrument_number="", instrument_date=None))
    assert isinstance(error, ValidationFailed)
    assert error.fields == {
        "INVALID_INST_NUMBER": [f"Instrument Number is mandatory for {mode}"],
        "INVALID_INST_DATE": [f"Instrument Date Input is mandatory for {mode}"],
    }


def test_an_unknown_payer(bill, cashier):
    error = refused(cashier, pay_input(bill, "950", payer_id=uuid.UUID(int=5)))
    assert error.code == "PAYMENT_PAYER_NOT_FOUND"


def test_a_transaction_number_used_before_in_the_tenant(employee, cashier, bill):
    pay(cashier, bill, "950", mode="CARD", transaction_number="TXN-42")
    second = make_bill(employee, pt_demand("PT-107-002"))
    error = refused(cashier, pay_input(second, "500", mode="CARD", transaction_number="TXN-42"))
    assert (error.code, error.http_status) == ("PAYMENT_DUPLICATE_TRANSACTION_NUMBER", 409)
    assert Payment.objects.count() == 1


def test_overpayment_on_an_advance_service_without_an_advance_head(employee, cashier, advance_service_without_head):
    from tests.payments.conftest import WCAN2019_FROM, WCAN2019_TO

    bill = make_bill(
        employee,
        pt_demand(
            "SW-1", business_service="SW", period=(WCAN2019_FROM, WCAN2019_TO), details=(line("SW_CHARGE", "100"),)
        ),
    )
    assert refused(cashier, pay_input(bill, "150")).code == "NO TAXHEAD FOUND"


def test_several_faults_are_reported_together(bill, cashier):
    payment = with_detail(pay_input(bill, "951", mode="DD"), business_service="PT")
    error = refused(cashier, payment)
    assert isinstance(error, ValidationFailed)
    assert error.fields == {
        "INVALID_PAYMENTDETAIL": [
            f"The paymentMode: DD is not allowed for the bill: {bill.pk}",
            "The amount to be paid is more than amount due",
        ]
    }


def test_the_detail_input_keeps_its_manual_receipt_number(bill, cashier):
    payment = with_detail(pay_input(bill, "950"), manual_receipt_number="M-17", additional_details={"counter": 3})
    stored = payment_create(caller=cashier, payment=payment, at=PAY_AT).details.get()
    assert (stored.manual_receipt_number, stored.additional_details) == ("M-17", {"counter": 3})
    assert isinstance(payment.details[0], PaymentDetailInput)
