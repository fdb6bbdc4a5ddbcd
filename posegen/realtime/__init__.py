"""Live updates: the event bus (in-process or Redis), WebSocket and Server-Sent Events."""
