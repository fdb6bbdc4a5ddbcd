"""Generation requests: validation, pricing, the charge-and-enqueue transaction, results and events."""
