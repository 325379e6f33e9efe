"""Pure parts of the batch imports: reading the CSV files and normalising their lines (no ORM, no clock)."""
