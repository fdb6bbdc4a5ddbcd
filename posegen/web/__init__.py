"""The web app: server-rendered pages over the same JSON API any client uses.

Jinja2 templates render each page's frame and forms; small hand-written ES
modules (no build step, no third-party code) call the API with the browser's
own `fetch` and `WebSocket`. Strings come from one message catalogue per
language (`messages/`). Assets are served under a content-hashed path with a
year-long cache; pages carry a strict Content-Security-Policy.
"""
