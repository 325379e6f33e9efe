"""The error codes of the bills app (fetch, search, cancel, bulk runs).

Raised as the kernel class of their HTTP meaning (``billing_project.errors``): ``DomainError(CODE, message)``
(400) unless noted. Codes marked *reference* are the reference billing-service's own — clients match on them,
misspellings included; the others are this service's (docs/reference-rules.md, "Error codes"). Codes of
lower apps the bills app raises too come from their modules (``demands.errors.INVALID_TENANTID``,
``masters.errors.EG_BS_BUSINESSSERVICE_NOTFOUND``).
"""

from __future__ import annotations

from typing import Final

# Fetch bill (reference: GenerateBillCriteria's checks).
BILL_GEN_MANDATORY_FIELDS_MISSING: Final = "BILL_GEN_MANDATORY_FIELDS_MISSING"
EG_BS_TAXHEADCODE_EMPTY: Final = "EG_BS_TAXHEADCODE_EMPTY"  # a demand line of a tax head the masters lack
EG_BS_DEMAND_REFRESH_FAILED: Final = "EG_BS_DEMAND_REFRESH_FAILED"  # 502: the module's refresh URL failed
# Fetch bill (ours): a malformed criterion, named after the criterion.
FETCH_CRITERION_INVALID: Final = {
    "tenantId": "INVALID_TENANTID",
    "businessService": "INVALID_BUSINESSSERVICE",
    "demandId": "INVALID_DEMANDID",
    "mobileNumber": "INVALID_MOBILENUMBER",
    "email": "INVALID_EMAIL",
}
EG_BS_BILL_CONFLICT: Final = "EG_BS_BILL_CONFLICT"  # a guard: the account lock makes it unreachable

# Bill search (reference).
BILL_SEARCH_TENANT_REQUIRED: Final = "NotNull.billSearchCriteria.tenantId"
EGBS_MANDATORY_FIELDS_ERROR: Final = "EGBS_MANDATORY_FIELDS_ERROR"
BILL_SEARCH_CONSUMERCODE_BUSINESSSERVICE: Final = "BILL_SEARCH_CONSUMERCODE_BUSINESSSERVICE"

# Cancel (reference).
EG_BS_CANCELL_REASON_CODE_NOT: Final = "EG_BS_CANCELL_REASON_CODE_NOT"
EG_BS_CANCELL_REASON_MSG_NOT: Final = "EG_BS_CANCELL_REASON_MSG_NOT"
EG_BS_CANCEL_BILL_ERROR: Final = "EG_BS_CANCEL_BILL_ERROR"
# Cancel one bill (ours: REST and admin).
EG_BS_BILL_PAID: Final = "EG_BS_BILL_PAID"  # 409
EG_BS_BILL_NOT_ACTIVE: Final = "EG_BS_BILL_NOT_ACTIVE"  # 409

# The DIGIT face's unsupported and deprecated bill APIs (reference).
EG_BS_API_ERROR: Final = "EG_BS_API_ERROR"

# Bulk billing runs (ours).
INVALID_CHUNK_SIZE: Final = "INVALID_CHUNK_SIZE"
BILLING_RUN_STATE: Final = "BILLING_RUN_STATE"  # 409: cancel a finished run, resume a live or completed one
BILLING_RUN_REASON_REQUIRED: Final = "BILLING_RUN_REASON_REQUIRED"  # a cancel without a reason
