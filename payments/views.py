"""The printable receipt (HTML): for staff holding a payment role in the payment's tenant; 404 for others."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from billing_project.money import ZERO
from masters.access import caller_for
from masters.selectors import tax_head_names
from payments.models import PaymentDetail
from payments.selectors import PAYMENT_ROLES, payments_with_details


def _periods(detail: PaymentDetail) -> list[dict[str, Any]]:
    """The detail's account lines grouped by bill period (oldest first): what was paid per tax head."""
    periods: dict[Any, dict[str, Any]] = {}
    for line in detail.account_lines.all():
        period = periods.setdefault(
            line.bill_detail_id,
            {"from": line.bill_detail.from_period, "to": line.bill_detail.to_period, "lines": [], "paid": ZERO},
        )
        paid = line.adjusted_amount + line.advance_amount
        period["lines"].append({"tax_head": line.tax_head_code, "due": line.amount, "paid": paid})
        period["paid"] += paid
    return sorted(periods.values(), key=lambda period: period["from"])


@require_safe
@login_required(login_url="admin:login")
def payment_receipt(request: HttpRequest, payment_id: uuid.UUID) -> HttpResponse:
    caller = caller_for(request.user)
    payments = payments_with_details().prefetch_related("details__account_lines__bill_detail")
    payment = get_object_or_404(payments.filter(caller.tenant_q("tenant__code", PAYMENT_ROLES)), pk=payment_id)
    receipts = [{"detail": detail, "periods": _periods(detail)} for detail in payment.details.all()]
    context = {
        "payment": payment,
        "receipts": receipts,
        "zone": settings.BILLING_TIME_ZONE,
        "tax_heads": tax_head_names(payment.tenant.code),
    }
    return render(request, "payments/receipt.html", context)
