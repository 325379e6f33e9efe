"""JSON for the DIGIT face: amounts as JSON numbers (whole amounts without a fraction), as Jackson writes them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder


class DigitJSONEncoder(JSONEncoder):
    def default(self, obj: Any) -> Any:
        if isinstance(obj, Decimal):
            # Two-place amounts below 10^12 are exact as floats; whole amounts print as integers.
            return int(obj) if obj == obj.to_integral_value() else float(obj)
        return super().default(obj)


class DigitJSONRenderer(JSONRenderer):
    encoder_class = DigitJSONEncoder
