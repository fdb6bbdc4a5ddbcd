// Admin: audit.
