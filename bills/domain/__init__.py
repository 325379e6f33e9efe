"""Pure bill logic: aggregation of demands into bill details and account lines, and expiry dates."""
