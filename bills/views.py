"""The printable bill (HTML): for staff of the bill's tenant and for the payer's linked login; 404 for others."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from billing_project import clock
from bills.selectors import bills_visible_to, effective_status
from masters.access import caller_for
from masters.selectors import tax_head_names


@require_safe
@login_required(login_url="admin:login")
def bill_print(request: HttpRequest, bill_id: uuid.UUID) -> HttpResponse:
    bill = get_object_or_404(bills_visible_to(caller_for(request.user)), pk=bill_id)
    context = {
        "bill": bill,
        "details": list(bill.details.all()),
        "status": effective_status(bill, clock.now()),
        "zone": settings.BILLING_TIME_ZONE,
        "tax_heads": tax_head_names(bill.tenant.code),
    }
    return render(request, "bills/bill_print.html", context)
