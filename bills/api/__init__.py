"""API faces of bills: REST (``/api/v1/bills/``) and DIGIT (``/billing-service/bill/...``)."""
