"""Platform administration under `/api/admin`; every route requires the admin role."""
