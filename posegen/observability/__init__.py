"""Logging, request ids and health."""
