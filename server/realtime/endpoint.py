"""The WebSocket endpoint ``/ws/{event}``: checks before accept, then moves bytes.

Refused before accept (an HTTP response, never an open socket): a foreign ``Origin`` (403), an
unknown event (404), too many handshakes from one address (429), a draining node (503). After
accept, the client has 10 s to send ``hello`` with a token (or a guest name); the token may also
travel in the ``Sec-WebSocket-Protocol`` header as ``plenary.token.<jwt>``, never in the URL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, assert_never

from starlette.websockets import WebSocket

from server.auth import AuthError, Claims, Role, effective, mint, verify
from server.problems import Problem
from server.realtime import metrics
from server.realtime.close_codes import Close
from server.realtime.close_codes import reason as close_reason
from server.realtime.connection import Connection
from server.realtime.hub import Hub, OpError
from server.realtime.protocol import (
    SUBPROTOCOL,
    Fail,
    Hello,
    Ping,
    Protocol,
    Reject,
    Request,
    Subscribe,
    ack,
    encode,
    error,
    frame,
)
from server.store.connection import REDIS_DOWN

log = logging.getLogger("plenary.ws")

HELLO_TIMEOUT = 10.0
TOKEN_PREFIX = "plenary.token."


async def _refuse(websocket: WebSocket, problem: Problem, why: str) -> None:
    metrics.REFUSED.labels(reason=why).inc()
    await websocket.send_denial_response(problem.response())


async def ws_endpoint(websocket: WebSocket) -> None:
    state = websocket.app.state
    hub: Hub = state.hub
    event = websocket.path_params["event"]
    origin = websocket.headers.get("origin")
    address = websocket.client.host if websocket.client else "unknown"
    if origin is not None and origin.rstrip("/") not in state.settings.origins:
        await _refuse(websocket, Problem(403, "origin_not_allowed", f"origin {origin} is not allowed"), "origin")
        return
    if event not in state.events:
        await _refuse(websocket, Problem(404, "unknown_event", f"there is no event {event!r}"), "event")
        return
    if hub.draining:
        await _refuse(websocket, Problem(503, "draining", "this node is shutting down; retry",
                                         headers={"Retry-After": "1"}), "draining")
        return
    offered = [p.strip() for p in websocket.scope.get("subprotocols", [])]
    header_token = next((p[len(TOKEN_PREFIX):] for p in offered if p.startswith(TOKEN_PREFIX)), None)
    await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    protocol = Protocol()
    conn: Connection | None = None
    try:
        conn = await _join(websocket, hub, protocol, event, address, header_token)
        if conn is None:
            return
        while not conn.closed:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            await _handle(hub, conn, protocol.receive(data))
    except REDIS_DOWN:
        if conn is not None:
            await conn.close(Close.BACKEND_UNAVAILABLE)
        else:
            await _close(websocket, Close.BACKEND_UNAVAILABLE)
    except RuntimeError:
        pass  # the socket was closed under us (eviction or shutdown)
    finally:
        if conn is not None:
            conn.closed = True
            hub.forget(conn)


async def _close(websocket: WebSocket, code: int, detail: str | None = None) -> None:
    try:
        await websocket.close(code, close_reason(code, detail))
    except RuntimeError:
        pass


async def _join(
    websocket: WebSocket, hub: Hub, protocol: Protocol, event: str, address: str, header_token: str | None
) -> Connection | None:
    """Wait for hello, authenticate, and admit the connection; None when it was refused."""
    try:
        message = await asyncio.wait_for(websocket.receive(), timeout=HELLO_TIMEOUT)
    except TimeoutError:
        await _close(websocket, Close.HELLO_TIMEOUT)
        return None
    while True:
        if message["type"] == "websocket.disconnect":
            return None
        received = protocol.receive(message.get("text") or message.get("bytes") or b"")
        if isinstance(received, Hello):
            break
        if isinstance(received, Fail):
            await _close(websocket, received.code, received.reason)
            return None
        if isinstance(received, Reject):
            await websocket.send_text(frame([received.frame]))
        message = await asyncio.wait_for(websocket.receive(), timeout=HELLO_TIMEOUT)
    hello = received.data
    settings = websocket.app.state.settings
    token = hello.token or header_token
    guest_token: str | None = None
    if token:
        try:
            claims = verify(settings.secret, token, event)
        except AuthError as exc:
            code = Close.FORBIDDEN if exc.code == "wrong_event" else Close.UNAUTHORIZED
            await websocket.send_text(frame([error(received.id, exc.code, exc.detail)]))
            await _close(websocket, code, exc.code)
            return None
    elif hello.guest is not None:
        name = " ".join(hello.guest.name.split())[:80]
        if not name:
            await websocket.send_text(frame([error(received.id, "invalid_name", "a guest needs a display name")]))
            await _close(websocket, Close.UNAUTHORIZED, "guest name missing")
            return None
        traits = {k: v[:80] for k, v in (("country", hello.guest.country), ("organisation", hello.guest.organisation))
                  if v}
        guest_token = mint(settings.secret, event=event, role=Role.GUEST, name=name, ttl=24 * 3600, traits=traits)
        claims = verify(settings.secret, guest_token, event)
    else:
        await websocket.send_text(frame([error(received.id, "unauthorized", "hello needs a token or a guest name")]))
        await _close(websocket, Close.UNAUTHORIZED)
        return None
    current = await effective(websocket.app.state.services.redis, claims)
    if current is None:
        await websocket.send_text(frame([error(received.id, "revoked", "an organizer revoked this access")]))
        await _close(websocket, Close.UNAUTHORIZED, "access revoked")
        return None
    claims = current
    for check in hub.join_checks:
        refusal = await check(event, claims)
        if refusal is not None:
            await websocket.send_text(frame([error(received.id, "banned", refusal)]))
            await _close(websocket, Close.BANNED)
            return None
    protocol.joined()
    conn = Connection(hub=hub, websocket=websocket, event=event, claims=claims, address=address, protocol=protocol)
    conn.send(ack(received.id, _welcome(conn, claims, guest_token)), urgent=True)
    await hub.admit(conn, hello.topics, dict(hello.resume))
    return conn


def _welcome(conn: Connection, claims: Claims, guest_token: str | None) -> dict[str, Any]:
    welcome: dict[str, Any] = {
        "v": 1,
        "conn": conn.id,
        "node": conn.hub.node,
        "server_time": int(time.time() * 1000),
        "user": {"id": claims.sub, "name": claims.name, "role": claims.role.value, "traits": claims.traits},
    }
    if guest_token is not None:
        welcome["token"] = guest_token
    return welcome


async def _handle(hub: Hub, conn: Connection, event: Hello | Ping | Subscribe | Request | Reject | Fail) -> None:
    match event:
        case Request(id=request_id, op=op, data=data):
            await hub.dispatch(conn, request_id, op, bytes(data))
        case Ping(id=request_id):
            conn.send(encode({"type": "pong", "id": request_id, "server_time": int(time.time() * 1000)}), urgent=True)
        case Subscribe(id=request_id, topics=topics, resume=resume):
            try:
                await hub.subscribe(conn, topics, dict(resume))
            except OpError as exc:
                conn.send(error(request_id, exc.code, exc.message), urgent=True)
            else:
                conn.send(ack(request_id, {"topics": sorted(conn.topics)}), urgent=True)
        case Reject(frame=payload):
            conn.send(payload, urgent=True)
        case Fail(code=code, reason=why):
            await conn.close(code, why)
        case Hello():
            raise AssertionError("the protocol rejects a second hello itself")
        case _:
            assert_never(event)
