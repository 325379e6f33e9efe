"""Pure rules of the gateway integration: retry backoff, the polling schedule, verdict decisions, signatures.

No ORM, settings, clock or I/O here: times and random sources are passed in.
"""
