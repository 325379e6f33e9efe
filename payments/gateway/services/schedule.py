"""When a transaction is looked at again: after a transient failure (exponential, jittered backoff; the queue
after ``PAYMENT_GATEWAY_TRANSIENT_LIMIT`` in a row) and after a poll that found it still open (the poll
schedule; the queue when it is exhausted). Each is one short locked write that re-checks the state."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction

from payments.gateway.domain.polling import next_poll_at
from payments.gateway.domain.retry import backoff_delay, retry_allowed
from payments.gateway.models import AttentionReason, GatewayTransaction, TransactionStatus
from payments.gateway.services import config


def _locked_open(transaction_id: uuid.UUID) -> GatewayTransaction | None:
    rows = list(GatewayTransaction.objects.select_for_update().filter(pk=transaction_id))
    if not rows or rows[0].is_final:
        return None
    return rows[0]


def schedule_after_transient(*, transaction_id: uuid.UUID, error: str, at: dt.datetime, to_unknown: bool) -> None:
    """A call failed transiently after its in-place retries: the answer is unknown. ``to_unknown`` moves an
    INITIATED/PENDING row to UNKNOWN (an initiate or charge whose answer was lost; a failed status query
    changes nothing about what we know, so it keeps its status)."""
    policy = config.transient_retry_policy()
    with transaction.atomic(durable=True):
        txn = _locked_open(transaction_id)
        if txn is None:
            return
        if to_unknown and txn.status == TransactionStatus.INITIATED:
            txn.mark_unknown()
        if not to_unknown:
            txn.last_polled_at = at  # a failed lookup is a poll too (the return page's 10 s limit counts it)
        txn.transient_failures += 1
        failures = txn.transient_failures
        delay = backoff_delay(policy, min(failures, policy.attempts), config.jitter_source)
        txn.next_poll_at = at + dt.timedelta(seconds=delay)
        if not retry_allowed(policy, failures) and not txn.needs_attention:
            txn.needs_attention = True
            txn.attention_reason = AttentionReason.GATEWAY_UNREACHABLE
            txn.attention_note = f"{failures} transient failures in a row; last: {error}"[:4000]
        txn.updated_at = at
        txn.save()


def schedule_after_poll(*, transaction_id: uuid.UUID, at: dt.datetime) -> None:
    """A poll found the transaction still open: count the poll and set the next one, or queue it."""
    with transaction.atomic(durable=True):
        txn = _locked_open(transaction_id)
        if txn is None:
            return
        txn.poll_count += 1
        txn.last_polled_at = at
        txn.transient_failures = 0
        txn.next_poll_at = next_poll_at(
            config.poll_schedule(), polls_done=txn.poll_count, created_at=txn.created_at, at=at
        )
        if txn.next_poll_at is None and not txn.needs_attention:
            txn.needs_attention = True
            txn.attention_reason = AttentionReason.POLLS_EXHAUSTED
            txn.attention_note = f"still {txn.status} after {txn.poll_count} polls; the reconciler keeps asking"
        txn.updated_at = at
        txn.save()


def flag_lost(*, transaction_id: uuid.UUID, note: str, at: dt.datetime) -> None:
    """The gateway does not know a transaction id it gave us: a person must look."""
    with transaction.atomic(durable=True):
        txn = _locked_open(transaction_id)
        if txn is None:
            return
        txn.needs_attention = True
        txn.attention_reason = AttentionReason.GATEWAY_LOST
        txn.attention_note = note[:4000]
        txn.next_poll_at = None
        txn.updated_at = at
        txn.save()
