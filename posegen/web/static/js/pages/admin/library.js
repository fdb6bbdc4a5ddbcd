// Admin: library.
