"""Sending chat messages and the room snapshot a joining client gets.

Pushes on ``chat:<room>`` are ``{"kind": "message", "message": {...}}``, ``{"kind": "delete",
"id"}``, ``{"kind": "pin", "message": {...} | null}`` and ``{"kind": "slow_mode", "seconds"}``.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from server.auth import AUDIENCE, BACKSTAGE, Claims
from server.chat import history, limits
from server.chat.model import Message, SendChat
from server.chat.stats import segment_now
from server.realtime.hub import OpContext, OpError
from server.services import Services

ROOM_ROLES = {"main": AUDIENCE, "backstage": BACKSTAGE}


def topic(room: str) -> str:
    return f"chat:{room}"


def check_room(claims: Claims, room: str) -> None:
    if claims.role not in ROOM_ROLES[room]:
        raise OpError("forbidden", f"role {claims.role.value} may not write in the {room} room")


def as_dict(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(message)
    return data


async def snapshot(svc: Services, event: str, room: str, claims: Claims) -> dict[str, Any]:
    view = await history.room_view(svc, event, room, claims.sub)
    return {
        "room": room,
        "messages": [as_dict(m) for m in view.messages],
        "pinned": as_dict(view.pinned) if view.pinned else None,
        "slow_mode": view.slow_mode,
        "max_chars": svc.settings.chat_max_chars,
        "muted_until": view.muted_until,
    }


async def send(svc: Services, ctx: OpContext, d: SendChat) -> dict[str, Any]:
    """Store and push one message; a retried ``cid`` returns the first send's id and pushes nothing."""
    claims = ctx.claims
    check_room(claims, d.room)
    first = await history.already_sent(svc, ctx.event, d.room, claims.sub, d.cid)
    if first is not None:
        return {"id": first.id, "duplicate": True}
    await limits.check_muted(svc, ctx.event, claims.sub)
    text = limits.clean_text(d.text, svc.settings.chat_max_chars)
    await limits.take_rate(svc, ctx.event, "chat", claims.sub)
    if not claims.is_staff:
        await limits.take_slow_mode(svc, ctx.event, d.room, claims.sub)
    message = Message(
        room=d.room, kind="message", user=claims.sub, name=limits.clean_name(claims.name) or "someone",
        role=claims.role.value, at=int(time.time() * 1000), text=text, cid=d.cid,
        segment=await segment_now(svc, ctx.event),
    )
    stored, new = await history.append(svc, ctx.event, message)  # stores and pushes, atomically
    return {"id": stored.id, "duplicate": not new}
