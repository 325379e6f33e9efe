"""The error codes of the masters app (tenants, roles, master data, payers, id generation).

Raised as the kernel class of their HTTP meaning (``billing_project.errors``): ``DomainError(CODE, message)``
(400) unless noted. Codes marked *reference* are the reference billing-service's own, clients match on them;
the others are this service's (docs/reference-rules.md, "Error codes"). Higher apps import the codes they
raise too (``EG_BS_BUSINESSSERVICE_NOTFOUND``) from here.
"""

from __future__ import annotations

from typing import Final

from billing_project.errors import DomainError

# Master data (reference).
EG_BS_BUSINESSSERVICE_NOTFOUND: Final = "EG_BS_BUSINESSSERVICE_NOTFOUND"  # no such business service
EG_BS_INVALID_TENANTID: Final = "EG_BS_INVALID_TENANTID"  # an employee searching at state level

# Master data (ours).
DUPLICATE_MASTER: Final = "DUPLICATE_MASTER"  # 409: the natural key exists in the tenant
TENANT_NOT_FOUND: Final = "TENANT_NOT_FOUND"
INVALID_CATEGORY: Final = "INVALID_CATEGORY"
INVALID_TAX_PERIOD_RANGE: Final = "INVALID_TAX_PERIOD_RANGE"
INVALID_FINANCIAL_YEAR: Final = "INVALID_FINANCIAL_YEAR"
MDMS_INVALID: Final = "MDMS_INVALID"  # a master file could not be loaded (``MdmsInvalid``)

# Tenants, roles and API clients.
INVALID_TENANT: Final = "INVALID_TENANT"
INVALID_ROLE: Final = "INVALID_ROLE"
INVALID_USERNAME: Final = "INVALID_USERNAME"
INVALID_PASSWORD: Final = "INVALID_PASSWORD"
USER_NOT_FOUND: Final = "USER_NOT_FOUND"  # 404
USER_ROLE_NOT_FOUND: Final = "USER_ROLE_NOT_FOUND"  # 404: revoking a role grant that is not there

# The payer registry.
PAYER_DUPLICATE: Final = "PAYER_DUPLICATE"  # 409
PAYER_USER_ALREADY_LINKED: Final = "PAYER_USER_ALREADY_LINKED"  # 409
PAYER_NOT_FOUND: Final = "PAYER_NOT_FOUND"  # 404
PAYER_INVALID_NAME: Final = "PAYER_INVALID_NAME"
PAYER_INVALID_MOBILE: Final = "PAYER_INVALID_MOBILE"
PAYER_INVALID_EMAIL: Final = "PAYER_INVALID_EMAIL"
PAYER_INVALID_TYPE: Final = "PAYER_INVALID_TYPE"

# Id generation (reference: egov-idgen's code and message).
IDGEN_SERVICE_ERROR: Final = "IDGEN_SERVICE_ERROR"
IDGEN_ERROR_MESSAGE: Final = "Failed to generate ID, unknown error occurred"


class MdmsInvalid(DomainError):
    """A file could not be loaded; ``fields`` maps each bad file name to its problems. Nothing was written.

    A class of its own because the admin upload and ``load_mdms`` catch it to show the problems per file."""

    code = MDMS_INVALID


class IdGenerationError(DomainError):
    """The id could not be generated (bad format, bad arguments). ``detail`` says why; the message is the
    reference's fixed text."""

    code = IDGEN_SERVICE_ERROR

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(message=IDGEN_ERROR_MESSAGE, params=[detail], fields={"idgen": [detail]})

    def __str__(self) -> str:
        return f"{self.code}: {self.message} ({self.detail})"
