"""The handshake gate: a connection storm from one address is refused before anything else runs.

It sits outside every other middleware and answers over-rate WebSocket handshakes with a
pre-built 429, so a storm costs uvicorn's parsing and little more: no routing, no problem body
to build, no access-log line each (one summary line a second instead). Measured in
tests/faults/test_floods.py: bystanders' p99 during a 1,000-handshake storm against a quiet run.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from server.realtime import metrics

log = logging.getLogger("plenary.ws")

BODY = (b'{"type":"https://plenary.dev/problems/too_many_connections","title":"too many connections",'
        b'"status":429,"code":"too_many_connections","detail":"too many connection attempts; slow down"}')
HEADERS = [(b"content-type", b"application/problem+json"), (b"retry-after", b"1"),
           (b"content-length", str(len(BODY)).encode())]


class ConnectLimiter:
    """Per-address token bucket for handshakes on this node; refuses a connect storm before accept."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.burst = rate * 2
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, address: str) -> bool:
        now = time.monotonic()
        tokens, ts = self._buckets.get(address, (self.burst, now))
        tokens = min(self.burst, tokens + (now - ts) * self.rate)
        if len(self._buckets) > 100_000:
            self._buckets.clear()  # bound memory under a spoofed-address flood
        if tokens < 1:
            self._buckets[address] = (tokens, now)
            return False
        self._buckets[address] = (tokens - 1, now)
        return True


class ConnectGate:
    """ASGI middleware applying :class:`ConnectLimiter` to WebSocket handshakes."""

    def __init__(self, app: ASGIApp, rate: float) -> None:
        self.app = app
        self.limiter = ConnectLimiter(rate)
        self._refused = 0
        self._since = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            client = scope.get("client")
            if not self.limiter.allow(client[0] if client else "unknown"):
                self._note()
                await send({"type": "websocket.http.response.start", "status": 429, "headers": HEADERS})
                await send({"type": "websocket.http.response.body", "body": BODY})
                return
        await self.app(scope, receive, send)

    def _note(self) -> None:
        metrics.REFUSED.labels(reason="rate").inc()
        self._refused += 1
        now = time.monotonic()
        if now - self._since >= 1.0:
            log.warning("refused %d handshakes over the per-address rate in the last %.1f s",
                        self._refused, now - self._since)
            self._refused, self._since = 0, now
