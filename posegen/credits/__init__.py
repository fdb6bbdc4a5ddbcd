"""Credits: the balance, its append-only ledger, and the unlimited tier's daily quota."""
