// Admin: metrics.
