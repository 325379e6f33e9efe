"""This service inside a DIGIT installation: identity from egov-user, DIGIT roles, payers by egov-user uuid.

- ``roles``: DIGIT role codes → our roles (a configurable table, ``DIGIT_ROLE_MAP``); pure.
- ``user_service``: the egov-user HTTP contract (``/user/_details``, ``/user/_search``) with bounded timeouts.
- ``identity``: the kernel's fallback for tokens that are not ours (``EXTERNAL_TOKEN_AUTHENTICATOR``): egov-user
  validates the token, the answer is cached by a hash of the token, and the user becomes a local login with the
  mapped roles (``DigitUser``).
- ``payers``: payers given by egov-user uuid, stored under that uuid and enriched from ``/user/_search``.

The kernel imports nothing of this package; ``settings.py`` wires it in. See ``docs/digit-deployment.md``.
"""
