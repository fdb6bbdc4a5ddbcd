// Admin: queue.
