"""The counter payment form: the mode, the instrument fields the mode needs, the amount, who paid.

Errors of the payment service are put next to the field they concern (``FIELD_OF_CODE``), in words, with
their code beside them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms

from billing_project.errors import DomainError, ValidationFailed
from payments.models import PaymentMode

#: What the counter calls each mode (ONLINE is the gateway's, never taken at a counter).
MODE_LABELS: dict[str, str] = {str(mode): str(mode.label) for mode in PaymentMode if mode != PaymentMode.ONLINE}
#: The instrument fields each mode asks for (the others are hidden in the browser and ignored).
MODE_FIELDS: dict[str, tuple[str, ...]] = {
    PaymentMode.CASH: (),
    PaymentMode.CHEQUE: ("instrument_number", "instrument_date", "ifsc_code"),
    PaymentMode.DD: ("instrument_number", "instrument_date", "ifsc_code"),
    PaymentMode.CARD: ("transaction_number",),
    PaymentMode.OFFLINE_NEFT: ("instrument_number", "instrument_date", "ifsc_code"),
    PaymentMode.OFFLINE_RTGS: ("instrument_number", "instrument_date", "ifsc_code"),
    PaymentMode.POSTAL_ORDER: ("instrument_number", "instrument_date"),
}
INSTRUMENT_FIELDS = ("instrument_number", "instrument_date", "ifsc_code", "transaction_number")
#: Where a payment service error is shown; codes not listed are shown above the form.
FIELD_OF_CODE = {
    "INVALID_INST_NUMBER": "instrument_number",
    "INVALID_INST_DATE": "instrument_date",
    "INVALID_PAYMENTMODE": "payment_mode",
    "INVALID_BILL_AMOUNT": "amount",
    "INVALID_PAYMENTDETAIL": "amount",
    "PAYMENT_DUPLICATE_TRANSACTION_NUMBER": "transaction_number",
}


class CounterPaymentForm(forms.Form):
    form_key = forms.UUIDField(widget=forms.HiddenInput)
    bill_id = forms.UUIDField(widget=forms.HiddenInput)
    payment_mode = forms.ChoiceField(label="Mode", choices=list(MODE_LABELS.items()), initial=PaymentMode.CASH)
    amount = forms.DecimalField(label="Amount paid (₹)", max_digits=14, decimal_places=2, min_value=Decimal("0"))
    paid_by = forms.CharField(label="Paid by", max_length=256, required=False, help_text="Who hands the money over.")
    payer_name = forms.CharField(label="Payer name", max_length=256, required=False, help_text="Blank: the bill's.")
    mobile_number = forms.RegexField(
        label="Mobile number", regex=r"^[0-9]{10}$", required=False, help_text="Ten digits; blank: the bill's."
    )
    instrument_number = forms.CharField(label="Cheque / DD / reference number", max_length=128, required=False)
    instrument_date = forms.DateField(
        label="Instrument date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ifsc_code = forms.CharField(label="Bank IFSC", max_length=20, required=False)
    transaction_number = forms.CharField(label="Card slip / transaction number", max_length=128, required=False)

    def __init__(self, *args: Any, refused_modes: frozenset[str] = frozenset(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mode = self.fields["payment_mode"]
        assert isinstance(mode, forms.ChoiceField)
        mode.choices = [(code, label) for code, label in MODE_LABELS.items() if code not in refused_modes]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        needed = MODE_FIELDS.get(data.get("payment_mode", ""), ())
        for name in INSTRUMENT_FIELDS:
            if name not in needed:
                data[name] = None if name == "instrument_date" else ""
        return data

    def add_service_error(self, error: DomainError) -> None:
        """Put each rule the service refused next to its field (or above the form), with its code."""
        for item in error.errors if isinstance(error, ValidationFailed) else [error]:
            name = FIELD_OF_CODE.get(item.code)
            if item.code == "INVALID_PAYMENTDETAIL" and "paymentMode" in item.message:
                name = "payment_mode"
            self.add_error(name, forms.ValidationError(item.message, code=item.code))


def instrument_datetime(day: dt.date | None, zone: dt.tzinfo) -> dt.datetime | None:
    """The instrument's date as the start of that day in the billing time zone."""
    return None if day is None else dt.datetime.combine(day, dt.time.min, tzinfo=zone)
