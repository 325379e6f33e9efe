"""DIGIT role codes → the roles of this service (pure; the table is configuration, ``DIGIT_ROLE_MAP``).

A DIGIT role is held in a tenant (``{"code": "WS_CEMP", "tenantId": "pb.amritsar"}``), as ours are, so the
mapping keeps the tenant: every DIGIT role maps to zero or more of our roles in the same tenant. Codes that are
not in the table give nothing (DIGIT has hundreds of module roles that say nothing about billing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Our role names (masters.models.Role values), spelt out so that this module stays free of Django.
SUPERUSER, BILLING_ADMIN, EMPLOYEE, CASHIER = "SUPERUSER", "BILLING_ADMIN", "EMPLOYEE", "CASHIER"
AMENDMENT_APPROVER, CITIZEN, SYSTEM = "AMENDMENT_APPROVER", "CITIZEN", "SYSTEM"
OUR_ROLES = frozenset({SUPERUSER, BILLING_ADMIN, EMPLOYEE, CASHIER, AMENDMENT_APPROVER, CITIZEN, SYSTEM})

# The usual codes of a DIGIT installation (egov-mdms-data ACCESSCONTROL-ROLES): counter employees collect and
# create demands, approvers decide amendments, clerks and inspectors read and raise demands, system roles are
# the back-end services (calculators, collection-services) calling with a system user's token.
DEFAULT_ROLE_MAP: Mapping[str, tuple[str, ...]] = {
    "SUPERUSER": (SUPERUSER,),
    "MDMS_ADMIN": (BILLING_ADMIN,),
    "EMPLOYEE": (EMPLOYEE,),
    "CITIZEN": (CITIZEN,),
    "SYSTEM": (SYSTEM,),
    "INTERNAL_MICROSERVICE_ROLE": (SYSTEM,),
    "ANONYMOUS": (),
    # counter employees: take payments and raise/adjust demands of their module
    "CEMP": (EMPLOYEE, CASHIER),
    "COLLECTION_OPERATOR": (EMPLOYEE, CASHIER),
    "UC_EMP": (EMPLOYEE, CASHIER),
    "PTCEMP": (EMPLOYEE, CASHIER),
    "TL_CEMP": (EMPLOYEE, CASHIER),
    "WS_CEMP": (EMPLOYEE, CASHIER),
    "SW_CEMP": (EMPLOYEE, CASHIER),
    "FIRE_NOC_CEMP": (EMPLOYEE, CASHIER),
    "BPA_CEMP": (EMPLOYEE, CASHIER),
    # approvers of bill amendments (WS.AMENDMENT / SW.AMENDMENT workflows) and of module applications
    "WS_APPROVER": (EMPLOYEE, AMENDMENT_APPROVER),
    "SW_APPROVER": (EMPLOYEE, AMENDMENT_APPROVER),
    "PT_APPROVER": (EMPLOYEE, AMENDMENT_APPROVER),
    "TL_APPROVER": (EMPLOYEE, AMENDMENT_APPROVER),
    # clerks, verifiers and inspectors: read bills and demands of their city
    "WS_CLERK": (EMPLOYEE,),
    "SW_CLERK": (EMPLOYEE,),
    "WS_DOC_VERIFIER": (EMPLOYEE,),
    "SW_DOC_VERIFIER": (EMPLOYEE,),
    "WS_FIELD_INSPECTOR": (EMPLOYEE,),
    "SW_FIELD_INSPECTOR": (EMPLOYEE,),
    "PT_DOC_VERIFIER": (EMPLOYEE,),
    "PT_FIELD_INSPECTOR": (EMPLOYEE,),
    "TL_DOC_VERIFIER": (EMPLOYEE,),
    "TL_FIELD_INSPECTOR": (EMPLOYEE,),
    "CHALLAN_CREATOR": (EMPLOYEE,),
}


class RoleMapError(ValueError):
    """The configured table is not an object of lists of our role names."""


def role_table(configured: object | None) -> dict[str, tuple[str, ...]]:
    """The table to use: ``DIGIT_ROLE_MAP`` when configured (it replaces the defaults), else the defaults."""
    if configured is None:
        return dict(DEFAULT_ROLE_MAP)
    if not isinstance(configured, Mapping):
        raise RoleMapError("DIGIT_ROLE_MAP must be a JSON object: DIGIT role code -> list of our roles")
    table: dict[str, tuple[str, ...]] = {}
    for code, roles in configured.items():
        if isinstance(roles, str):
            roles = [roles]
        if not isinstance(code, str) or not isinstance(roles, list | tuple):
            raise RoleMapError(f"DIGIT_ROLE_MAP[{code!r}] must be a list of role names")
        unknown = sorted({str(r) for r in roles} - OUR_ROLES)
        if unknown:
            raise RoleMapError(
                f"DIGIT_ROLE_MAP[{code!r}] names unknown roles {', '.join(unknown)}; "
                f"known: {', '.join(sorted(OUR_ROLES))}"
            )
        table[code] = tuple(str(r) for r in roles)
    return table


def map_roles(
    digit_roles: Iterable[Mapping[str, object]], table: Mapping[str, tuple[str, ...]], *, default_tenant: str
) -> tuple[tuple[str, str], ...]:
    """Our ``(tenant code, role)`` pairs for DIGIT roles, sorted and without duplicates.

    A role without ``tenantId`` is held in ``default_tenant`` (the user's own tenant). Tenant codes are lower-cased;
    codes that are not ``state`` or ``state.city`` are dropped (they could never match our data).
    """
    out: set[tuple[str, str]] = set()
    for role in digit_roles:
        code = role.get("code")
        if not isinstance(code, str):
            continue
        tenant = role.get("tenantId") or default_tenant
        if not isinstance(tenant, str) or not _plausible_tenant(tenant.lower()):
            continue
        for ours in table.get(code, ()):
            out.add((tenant.lower(), ours))
    return tuple(sorted(out))


def _plausible_tenant(code: str) -> bool:
    parts = code.split(".")
    return 1 <= len(parts) <= 2 and all(part and all(c.isalnum() or c == "_" for c in part) for part in parts)
