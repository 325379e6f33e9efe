"""The error codes of the demands app (demands, consumer accounts, apportionment, advance carry-forward).

Raised as the kernel class of their HTTP meaning (``billing_project.errors``): ``DomainError(CODE, message)``
(400) unless noted. The pure domain (``demands/domain``) raises ``ApportionError`` with these codes; services
turn it into a ``DomainError``. Codes marked *reference* are the reference billing-service's (or its
apportion service's) own — clients match on them, misspellings included; the others are this service's
(docs/reference-rules.md, "Error codes"). ``EG_BS_BUSINESSSERVICE_NOTFOUND`` is the masters app's
(``masters.errors``).
"""

from __future__ import annotations

from typing import Final

# Demand create/update validation (reference, in the reference's order).
INVALID_TENANTID: Final = "INVALID TENANTID"  # reference (with the blank)
EG_BS_TAXPERIODS_DEMAND: Final = "EG_BS_TAXPERIODS_DEMAND"
EG_BS_TAXHEADS_NOTFOUND: Final = "EG_BS_TAXHEADS_NOTFOUND"
EG_BS_TAXPERIODS_BUINESSSERVICE: Final = "EG_BS_TAXPERIODS_BUINESSSERVICE"  # reference spelling
EG_BS_DEMAND_STATUS_INVALID: Final = "EG_BS_DEMAND_STATUS_INVALID"
EG_BS_USER_UUID_NOTFOUND: Final = "EG_BS_USER_UUID_NOTFOUND"
EG_BS_EMPLOYEE_UUID_NOTALLOWED: Final = "EG_BS_EMPLOYEE_UUID_NOTALLOWED"
EG_DEMAND_DEATIL_INVALID: Final = "EG_DEMAND_DEATIL_INVALID"  # reference spelling: the amount rule
EG_BS_DUPLICATE_CONSUMERCODE: Final = "EG_BS_DUPLICATE_CONSUMERCODE"
EG_BS_DEMANDS_UNDIDENTIFIABLE: Final = "EG_BS_DEMANDS_UNDIDENTIFIABLE"
EG_BS_DEMANDS_NOT_FOUND: Final = "EG_BS_DEMANDS_NOT_FOUND"  # 404
EG_BS_DEMAND_DETAIL_NOTFOUND: Final = "EG_BS_DEMAND_DETAIL_NOTFOUND"
NO_TAXHEAD_FOUND: Final = "NO TAXHEAD FOUND"  # reference (with blanks): no advance head for the service

# Demand validation (ours).
EG_BS_PAYER_INCOMPLETE: Final = "EG_BS_PAYER_INCOMPLETE"
EG_BS_DEMAND_DETAILS_EMPTY: Final = "EG_BS_DEMAND_DETAILS_EMPTY"
EG_BS_DEMAND_PERIOD_INVALID: Final = "EG_BS_DEMAND_PERIOD_INVALID"
EG_BS_DEMANDS_EMPTY: Final = "EG_BS_DEMANDS_EMPTY"
EG_BS_DEMAND_ALREADY_CANCELLED: Final = "EG_BS_DEMAND_ALREADY_CANCELLED"  # 409
EG_BS_DEMAND_IMMUTABLE_FIELD: Final = "EG_BS_DEMAND_IMMUTABLE_FIELD"

# Demand search (reference bean-validation style: ``NotNull.<path>``; the field name as the code).
DEMAND_SEARCH_TENANT_REQUIRED: Final = "NotNull.demandCriteria.tenantId"
DEMAND_SEARCH_CRITERIA_REQUIRED: Final = "businessService"

# Apportionment (reference: collection-services / the apportion service).
INVALID_PAYMENTDETAIL: Final = "INVALID_PAYMENTDETAIL"
INVALID_BILL: Final = "INVALID_BILL"

# Apportionment and advance carry-forward (ours: no reference equivalent).
APPORTION_INVALID_AMOUNT: Final = "APPORTION_INVALID_AMOUNT"
APPORTION_DUPLICATE_KEY: Final = "APPORTION_DUPLICATE_KEY"
APPORTION_INTERNAL: Final = "APPORTION_INTERNAL"
