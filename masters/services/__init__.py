"""Writes of the masters app — import them from here, not from the modules (an import-linter contract says so).

- ``mdms``: loading master files in the MDMS format (``mdms_load``)
- ``idgen``: ids from IdFormat templates and gap-free sequences (``id_generate``)
- ``accounts``: tenants, roles and API clients (``tenant_ensure``, ``api_client_upsert``); staff logins
  (``staff_user_ensure``) and the back-office's role grants (``user_role_grant``, ``user_role_revoke``)
- ``catalogue``: create/update of business services, tax heads, tax periods, id formats
- ``payers``: the payer registry (``payer_register``, ``payer_update``, ``payer_match_or_create``)
"""

from masters.services.accounts import (
    ROLE_GRANTERS,
    SUPERUSER_ONLY_ROLES,
    VALID_ROLES,
    api_client_upsert,
    role_grant,
    role_revoke,
    staff_user_ensure,
    superuser_ensure,
    tenant_ensure,
    user_role_grant,
    user_role_revoke,
)
from masters.services.catalogue import (
    BusinessServiceChanges,
    BusinessServiceOptions,
    TaxHeadChanges,
    TaxHeadOptions,
    TaxPeriodChanges,
    business_service_create,
    business_service_update,
    id_format_create,
    id_format_update,
    tax_head_create,
    tax_head_update,
    tax_period_create,
    tax_period_update,
    tenant_require,
)
from masters.services.idgen import MAX_IDS_PER_CALL, id_format_resolve, id_generate
from masters.services.mdms import MASTER_MODELS, FileReport, MasterCounts, MdmsLoadReport, mdms_load
from masters.services.payers import PayerChanges, payer_match_or_create, payer_register, payer_update

__all__ = [
    "MASTER_MODELS",
    "MAX_IDS_PER_CALL",
    "ROLE_GRANTERS",
    "SUPERUSER_ONLY_ROLES",
    "VALID_ROLES",
    "BusinessServiceChanges",
    "BusinessServiceOptions",
    "FileReport",
    "MasterCounts",
    "MdmsLoadReport",
    "PayerChanges",
    "TaxHeadChanges",
    "TaxHeadOptions",
    "TaxPeriodChanges",
    "api_client_upsert",
    "business_service_create",
    "business_service_update",
    "id_format_create",
    "id_format_resolve",
    "id_format_update",
    "id_generate",
    "mdms_load",
    "payer_match_or_create",
    "payer_register",
    "payer_update",
    "role_grant",
    "role_revoke",
    "staff_user_ensure",
    "superuser_ensure",
    "tax_head_create",
    "tax_head_update",
    "tax_period_create",
    "tax_period_update",
    "tenant_ensure",
    "tenant_require",
    "user_role_grant",
    "user_role_revoke",
]
