"""The counter desk and the consumer page of the back-office (issue 13).

- ``selectors``: find a consumer (code, payer name, mobile, bill number); everything the consumer page shows.
- ``forms``: the counter payment form (one-time form key, instrument fields per mode).
- ``views``: admin pages, registered on the back-office site by ``payments/admin.py``. Thin: parse, call one
  service (``bill_fetch``, ``counter_payment_take``), render.
"""
