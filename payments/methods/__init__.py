"""Payers' saved payment methods and automatic payment."""
