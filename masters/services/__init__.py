"""Writes of the masters app, one module per concern:

- ``mdms``: loading master files in the MDMS format (``mdms_load``)
- ``idgen``: ids from IdFormat templates and gap-free sequences (``id_generate``)
- ``accounts``: tenants, roles and API clients (``tenant_ensure``, ``api_client_upsert``)
- ``catalogue``: create/update of business services, tax heads, tax periods, id formats
- ``payers``: the payer registry (``payer_register``, ``payer_update``, ``payer_match_or_create``)
"""
