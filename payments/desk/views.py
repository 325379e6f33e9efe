"""Admin pages of the counter desk: search, the consumer page, fetch the bill, take a payment, payment done.

Each view parses its input, calls one service or selector, and renders (DESIGN rule 1). Rows are scoped to
the caller's tenants (a consumer of another city is a 404, as on the APIs); the services check the roles.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from billing_project import clock
from billing_project.errors import DomainError
from bills.models import Bill
from bills.services.fetch import FetchCriteria, bill_fetch
from masters.access import caller_for
from payments.desk.forms import MODE_FIELDS, CounterPaymentForm, instrument_datetime
from payments.desk.selectors import accounts_visible, consumer_page, consumer_search
from payments.selectors import PAYMENT_ROLES, payments_with_details
from payments.services import CounterOutcome, PaymentDetailInput, PaymentInput, counter_payment_take

DESK_PERMISSION = "payments.add_payment"
CONSUMER_PERMISSION = "demands.view_consumeraccount"
FETCH_PERMISSION = "bills.add_bill"


def may_use_desk(request: HttpRequest) -> bool:
    return request.user.has_perm(DESK_PERMISSION)


def may_see_consumers(request: HttpRequest) -> bool:
    return request.user.has_perm(CONSUMER_PERMISSION)


def _page(request: HttpRequest, template: str, title: str, **context: Any) -> TemplateResponse:
    desk_url = reverse("admin:counter_desk")
    crumbs = [] if template.endswith("search.html") else [(desk_url, "Counter desk")]
    if "consumer_url" in context and template.endswith(("pay.html", "paid.html")) and context["consumer_url"]:
        crumbs.append((context["consumer_url"], "Consumer"))
    base = {**admin.site.each_context(request), "title": title, "desk_url": desk_url, "crumbs": crumbs}
    return TemplateResponse(request, template, {**base, **context})


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def desk_search(request: HttpRequest) -> HttpResponse:
    """One search box: consumer code, payer name, mobile number or bill number; results as you type."""
    _require(request, CONSUMER_PERMISSION)
    query = request.GET.get("q", "").strip()[:100]
    hits = consumer_search(caller=caller_for(request.user), query=query)
    if request.GET.get("partial"):
        return TemplateResponse(request, "admin/desk/_results.html", {"hits": hits, "query": query})
    return _page(request, "admin/desk/search.html", "Counter desk", query=query, hits=hits)


def consumer_view(request: HttpRequest, account_id: int) -> HttpResponse:
    """The consumer page: demands by period and tax head, bills, payments, amendments, advance, history."""
    _require(request, CONSUMER_PERMISSION)
    account = get_object_or_404(accounts_visible(caller_for(request.user)), pk=account_id)
    page = consumer_page(account=account, at=clock.now())
    title = f"{account.consumer_code} · {account.business_service} · {account.tenant.name or account.tenant.code}"
    return _page(
        request,
        "admin/desk/consumer.html",
        title,
        page=page,
        may_pay=may_use_desk(request),
        may_fetch=request.user.has_perm(FETCH_PERMISSION),
    )


@require_POST
def fetch_bill_view(request: HttpRequest, account_id: int) -> HttpResponse:
    """Fetch the consumer's current bill (``bill_fetch`` regenerates a stale one); then take the payment."""
    _require(request, FETCH_PERMISSION)
    caller = caller_for(request.user)
    account = get_object_or_404(accounts_visible(caller), pk=account_id)
    criteria = FetchCriteria(
        tenant_id=account.tenant.code,
        business_service=account.business_service,
        consumer_codes=(account.consumer_code,),
    )
    consumer_url = reverse("admin:counter_consumer", args=[account.pk])
    try:
        bills = bill_fetch(caller=caller, criteria=criteria, at=clock.now())
    except DomainError as exc:
        messages.error(request, f"{exc.message} [{exc.code}]")
        return HttpResponseRedirect(consumer_url)
    if not bills:
        messages.info(request, "Nothing is due: no bill was generated.")
        return HttpResponseRedirect(consumer_url)
    bill = bills[0]
    messages.success(
        request, f"Bill {bill.bill_number}: {bill.total_amount} due, valid until {bill.expiry_date:%d %b %Y}."
    )
    target = reverse("admin:counter_pay", args=[account.pk]) if may_use_desk(request) else consumer_url
    return HttpResponseRedirect(target)


def pay_view(request: HttpRequest, account_id: int) -> HttpResponse:
    """Take a payment of the consumer's current bill, once per form (``counter_payment_take``)."""
    _require(request, DESK_PERMISSION)
    caller = caller_for(request.user)
    account = get_object_or_404(accounts_visible(caller), pk=account_id)
    at = clock.now()
    page = consumer_page(account=account, at=at)
    consumer_url = reverse("admin:counter_consumer", args=[account.pk])
    bill = page.current_bill
    if request.method == "POST":
        form = CounterPaymentForm(request.POST, refused_modes=page.rules.refused_modes)
        if form.is_valid():
            outcome = _take(form, caller=caller, tenant_code=account.tenant.code, at=at)
            if outcome is not None:
                if outcome.replayed:
                    messages.info(request, "This form was already submitted: here is the payment it recorded.")
                return HttpResponseRedirect(reverse("admin:counter_paid", args=[outcome.payment.pk]))
    elif bill is None:
        messages.warning(request, "There is no current bill: fetch the bill first.")
        return HttpResponseRedirect(consumer_url)
    else:
        form = CounterPaymentForm(
            initial={"form_key": uuid.uuid4(), "bill_id": bill.pk, "amount": bill.total_amount},
            refused_modes=page.rules.refused_modes,
        )
    bill_id = form.data.get("bill_id") if form.is_bound else (bill.pk if bill else None)
    form_bill = next((row.bill for row in page.bills if str(row.bill.pk) == str(bill_id)), bill)
    return _page(
        request,
        "admin/desk/pay.html",
        f"Take a payment · {account.consumer_code}",
        page=page,
        bill=form_bill,
        form=form,
        fields=_rows(form),
        form_errors=_errors(form.non_field_errors().as_data()),
        mode_fields=MODE_FIELDS,
        consumer_url=consumer_url,
    )


def _take(form: CounterPaymentForm, *, caller: Any, tenant_code: str, at: Any) -> CounterOutcome | None:
    data = form.cleaned_data
    bill_id = data["bill_id"]
    bill = Bill.objects.filter(pk=bill_id, tenant__code=tenant_code).first()
    if bill is None:
        form.add_error(None, "The bill of this form no longer exists: fetch the bill again.")
        return None
    amount = data["amount"]
    payment = PaymentInput(
        tenant_code=tenant_code,
        payment_mode=data["payment_mode"],
        total_due=bill.total_amount,
        total_amount_paid=amount,
        details=(
            PaymentDetailInput(
                bill_id=bill.pk,
                business_service=bill.business_service,
                total_due=bill.total_amount,
                total_amount_paid=amount,
            ),
        ),
        paid_by=data["paid_by"],
        payer_name=data["payer_name"],
        mobile_number=data["mobile_number"],
        instrument_number=data["instrument_number"],
        instrument_date=instrument_datetime(data["instrument_date"], clock.billing_zone()),
        ifsc_code=data["ifsc_code"],
        transaction_number=data["transaction_number"],
    )
    try:
        return counter_payment_take(caller=caller, form_key=data["form_key"], payment=payment, at=at)
    except DomainError as exc:
        form.add_service_error(exc)
        return None


def _errors(items: list[Any]) -> list[tuple[str, str]]:
    """(text, code) per error; the code only for the services' codes (upper case), not Django's own."""
    out = []
    for error in items:
        code = error.code or ""
        out.append((" ".join(error.messages), code if code.isupper() else ""))
    return out


def _rows(form: CounterPaymentForm) -> list[dict[str, Any]]:
    return [
        {"field": form[name], "errors": _errors(form.errors.as_data().get(name, []))}
        for name in form.fields
        if name not in ("form_key", "bill_id")
    ]


def paid_view(request: HttpRequest, payment_id: uuid.UUID) -> HttpResponse:
    """The payment just taken: receipt numbers, amounts, print the receipt, back to the consumer."""
    _require(request, DESK_PERMISSION)
    caller = caller_for(request.user)
    payment = get_object_or_404(
        payments_with_details().filter(caller.tenant_q("tenant__code", PAYMENT_ROLES)), pk=payment_id
    )
    details = list(payment.details.all())
    account_id = details[0].bill.account_id if details else None
    return _page(
        request,
        "admin/desk/paid.html",
        "Payment recorded",
        payment=payment,
        details=details,
        consumer_url=reverse("admin:counter_consumer", args=[account_id]) if account_id else "",
        receipt_url=reverse("payment-receipt", args=[payment.pk]),
    )
