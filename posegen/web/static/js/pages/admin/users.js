// Admin: users.
