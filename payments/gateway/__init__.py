"""Online payments through a payment gateway."""
