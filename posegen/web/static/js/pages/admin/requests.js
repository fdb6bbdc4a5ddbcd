// Admin: requests.
