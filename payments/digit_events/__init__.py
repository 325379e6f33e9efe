"""DIGIT collection-services' payments, consumed from Kafka and written back to our demands.

In a DIGIT installation the citizen or the counter may pay through DIGIT's own collection-services, which fetches
the bill from us and publishes the payment on ``egov.collection.payment-create`` (and its reversal on
``egov.collection.payment-cancel``). ``manage.py consume_digit_payments`` reads those topics (also the
state-prefixed ``<state>-egov.collection.payment-create`` of a central instance) and applies each payment exactly
once, keyed by its id: the payment is recorded as ours (same id, DIGIT's receipt numbers and apportionment) and its
amounts are written back to the demand details; a cancel or dishonour reverses exactly that. A message that cannot
be applied is parked (``DigitPaymentEvent``, status PARKED, with its error) for staff to retry from the admin; the
partition moves on. The offset is committed only after the database transaction that recorded the message.

- ``domain/messages.py``: the PaymentRequest message → frozen dataclasses (pure)
- ``models.py``: one ``DigitPaymentEvent`` per consumed message (topic, partition, offset)
- ``services.py``: ``digit_payment_event_handle`` (one message, one transaction) and ``digit_payment_event_retry``
- ``consumer.py``: the confluent-kafka loop (poll → handle → commit)
"""
