"""Batch imports: gateway/bank settlements and offline collections."""
