"""Rate limits: sliding-window counters with a cost (poses per hour, writes per minute, login and
register per client IP) and a cap on concurrent WebSocket connections per user."""
