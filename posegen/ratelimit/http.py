"""Rate limits at the HTTP boundary: who the caller is, which limit a request takes from, and the
`X-RateLimit-*` headers on every response of a limited route.

- login and register: `auth` per client address (`limit_auth_attempts`, a route dependency);
- every POST/PUT/PATCH/DELETE of an authenticated user: `writes` per user (`count_write`, called
  by the current-user dependency once the user is known);
- `POST /generate`: `poses` per user, weighted by the request's pose count (`PoseBudget`);
- `POST /poses/from-photo`: `detections` per user (`count_detection`), every attempt (the CPU is
  spent whether the photo shows a usable pose or not).

A request retried whole by the unit-of-work route counts once: `auth` and `writes` are taken on
its first try only, and the pose budget gives back what a failed try took.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Annotated

import structlog
from fastapi import Depends, Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from posegen.db import is_write
from posegen.dependencies import get_limiter, get_rate_rules, get_settings
from posegen.ratelimit.errors import RateLimited, rate_headers
from posegen.ratelimit.limiter import Decision, RateLimiter, Rule

log = structlog.get_logger(__name__)

# The decisions taken for one request, in its ASGI scope (shared by reference with the route).
SCOPE_KEY = "posegen.rate_limits"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


def _decisions(scope: Scope) -> list[Decision]:
    decisions: list[Decision] = scope.setdefault(SCOPE_KEY, [])
    return decisions


def record(request: Request, decision: Decision) -> None:
    """Keep `decision` for this response's headers."""
    _decisions(request.scope).append(decision)


def _already_counted(request: Request, rule: Rule) -> bool:
    return any(decision.rule.name == rule.name for decision in _decisions(request.scope))


class RateLimitHeadersMiddleware:
    """Adds `X-RateLimit-*` to every response of a request that a limit looked at. With several
    (a write that is also a pose submission), the one closest to refusing speaks."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        decisions: list[Decision] = []
        scope[SCOPE_KEY] = decisions

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and decisions:
                refused = [decision for decision in decisions if not decision.allowed]
                speaking = refused[-1] if refused else max(decisions, key=lambda d: d.fill)
                headers = MutableHeaders(scope=message)
                for name, value in rate_headers(speaking).items():
                    if name not in headers:  # a 429 already carries its own
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


@lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ip_network(entry, strict=False) for entry in entries)


def _parse(value: str) -> Address | None:
    try:
        return ip_address(value.strip())
    except ValueError:
        return None


def client_address(request: Request, trusted_proxies: list[str]) -> str:
    """The caller's address: the socket peer, or — only when the peer is a trusted proxy — the
    rightmost `X-Forwarded-For` entry that is not itself a trusted proxy (entries left of it were
    written by the client and prove nothing)."""
    peer = request.client.host if request.client else "unknown"
    networks = _networks(tuple(trusted_proxies))
    peer_address = _parse(peer)

    def trusted(address: Address) -> bool:
        return any(address in network for network in networks)

    if peer_address is None or not trusted(peer_address):
        return peer
    chain = [
        entry.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for entry in header.split(",")
        if entry.strip()
    ]
    for entry in reversed(chain):
        address = _parse(entry)
        if address is None:
            return peer  # a trusted proxy wrote nonsense: fall back to what the socket says
        if not trusted(address):
            return str(address)
    return str(_parse(chain[0])) if chain else peer


async def limit_auth_attempts(request: Request) -> None:
    """Route dependency of login and register: `auth` attempts per client address."""
    rules = get_rate_rules(request)
    if _already_counted(request, rules.auth):
        return
    address = client_address(request, get_settings(request).limits.trusted_proxies)
    decision = await get_limiter(request).hit(rules.auth, address)
    record(request, decision)
    if not decision.allowed:
        raise RateLimited(decision)


async def count_write(request: Request, user_id: str) -> None:
    """A write of an authenticated user takes one unit of `writes`; reads take nothing."""
    if request.method not in WRITE_METHODS or not is_write(request):
        return
    rules = get_rate_rules(request)
    if _already_counted(request, rules.writes):
        return
    decision = await get_limiter(request).hit(rules.writes, user_id)
    record(request, decision)
    if not decision.allowed:
        raise RateLimited(decision)


async def count_detection(request: Request, user_id: str) -> None:
    """One pose detection in a photo takes one unit of `detections` (once per request)."""
    rules = get_rate_rules(request)
    if _already_counted(request, rules.detections):
        return
    decision = await get_limiter(request).hit(rules.detections, user_id)
    record(request, decision)
    if not decision.allowed:
        raise RateLimited(decision)


@dataclass
class PoseBudget:
    """Poses a submission takes from its user's `poses` limit.

    `reserve` takes the cost atomically (so two concurrent submissions cannot both slip under the
    limit) right before anything is charged; if the unit of work then fails — a 402, a lost race,
    a failed commit — the dependency that made this budget gives the poses back. So only accepted
    submissions count, each once.
    """

    request: Request
    limiter: RateLimiter
    rule: Rule
    taken: list[tuple[str, int, float]] = field(default_factory=list)

    async def reserve(self, user_id: str, poses: int) -> None:
        decision = await self.limiter.hit(self.rule, user_id, poses)
        record(self.request, decision)
        if not decision.allowed:
            raise RateLimited(decision)
        self.taken.append((user_id, poses, time.monotonic()))

    async def give_back(self) -> None:
        while self.taken:
            user_id, poses, at = self.taken.pop()
            await self.limiter.refund(self.rule, user_id, poses, taken_seconds_ago=time.monotonic() - at)


async def pose_budget(request: Request) -> AsyncIterator[PoseBudget]:
    # Function-scoped and declared before the session, so it closes after the session: a failed
    # commit reaches it as an exception, like an error raised by the endpoint.
    budget = PoseBudget(request, get_limiter(request), get_rate_rules(request).poses)
    try:
        yield budget
    except BaseException:
        try:
            await budget.give_back()
        except Exception:  # the original error matters more than a failed refund
            log.exception("pose_budget_refund_failed")
        raise


PoseBudgetDep = Annotated[PoseBudget, Depends(pose_budget, scope="function")]
