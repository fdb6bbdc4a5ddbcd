"""Accounts: users, passwords, access tokens, and the current-user dependencies."""
