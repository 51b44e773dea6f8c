"""Moderation: delete, pin, announce, slow mode, mute, ban, and the log of every action.

Bans hold on every node and across reconnects: the ban record is in Redis, the hub's join check
refuses a banned user at hello, and a kick on the bus closes the user's live sockets everywhere
with 4504. Every action lands in the moderation log (a bounded stream) and is pushed on ``mod``.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import msgspec

from server.auth import Claims
from server.chat import history, limits, messages
from server.chat.model import (
    Announce,
    Ban,
    DeleteChat,
    LogEntry,
    Message,
    Mute,
    PinChat,
    SlowMode,
    Unban,
)
from server.realtime.close_codes import Close
from server.realtime.hub import OpContext, OpError
from server.services import Services
from server.store.keys import Keys

LOG_SIZE = 1000
LOG_SHOWN = 100

_decode_entry = msgspec.json.Decoder(LogEntry).decode


def _now_ms() -> int:
    return int(time.time() * 1000)


async def log_action(svc: Services, ctx: OpContext, action: str, target: str = "", target_name: str = "",
                     detail: str = "") -> LogEntry:
    claims = ctx.claims
    entry = LogEntry(at=_now_ms(), by=claims.sub, by_name=claims.name, action=action, target=target,
                     target_name=target_name, detail=detail)
    key = Keys(ctx.event).modlog
    sid = await svc.redis.xadd(key, {"d": msgspec.json.encode(entry)}, maxlen=LOG_SIZE, approximate=True)
    await svc.redis.expire(key, svc.key_ttl)
    entry = msgspec.structs.replace(entry, id=history.text(sid))
    await ctx.hub.publish(ctx.event, "mod", {"kind": "log", "entry": msgspec.to_builtins(entry)})
    return entry


async def read_log(svc: Services, event: str, count: int = LOG_SHOWN) -> list[dict[str, Any]]:
    """The newest ``count`` entries, oldest first."""
    entries: Any = await svc.redis.xrevrange(Keys(event).modlog, count=count)
    out = [msgspec.to_builtins(msgspec.structs.replace(_decode_entry(f[b"d"]), id=history.text(eid)))
           for eid, f in entries or []]
    return list(reversed(out))


async def _message(svc: Services, event: str, room: str, message_id: str) -> Message:
    message = await history.get(svc, event, room, message_id)
    if message is None or message_id in await history.deleted(svc, event, room):
        raise OpError("not_found", f"there is no message {message_id} in {room}")
    return message


async def delete(svc: Services, ctx: OpContext, d: DeleteChat) -> dict[str, Any]:
    message = await _message(svc, ctx.event, d.room, d.id)
    await history.mark_deleted(svc, ctx.event, d.room, d.id)
    await ctx.hub.publish(ctx.event, messages.topic(d.room), {"kind": "delete", "id": d.id})
    pin = await history.pinned(svc, ctx.event, d.room)
    if pin is not None and pin.id == d.id:
        await history.set_pinned(svc, ctx.event, d.room, None)
        await ctx.hub.publish(ctx.event, messages.topic(d.room), {"kind": "pin", "message": None})
    await log_action(svc, ctx, "delete", message.user, message.name, message.text[:200])
    return {"id": d.id}


async def pin(svc: Services, ctx: OpContext, d: PinChat) -> dict[str, Any]:
    message = None if d.id is None else await _message(svc, ctx.event, d.room, d.id)
    await history.set_pinned(svc, ctx.event, d.room, message)
    data = messages.as_dict(message) if message else None
    await ctx.hub.publish(ctx.event, messages.topic(d.room), {"kind": "pin", "message": data})
    await log_action(svc, ctx, "pin" if message else "unpin", message.user if message else "",
                     message.name if message else "", message.text[:200] if message else "")
    return {"id": d.id}


async def announce(svc: Services, ctx: OpContext, d: Announce) -> dict[str, Any]:
    claims = ctx.claims
    messages.check_room(claims, d.room)
    text = limits.clean_text(d.text, svc.settings.chat_max_chars)
    message = Message(room=d.room, kind="announcement", user=claims.sub, name=limits.clean_name(claims.name),
                      role=claims.role.value, at=_now_ms(), text=text, cid=f"ann-{secrets.token_hex(8)}")
    stored, _ = await history.append(svc, ctx.event, message, counter="")  # stores and pushes
    await log_action(svc, ctx, "announce", detail=text[:200])
    return {"id": stored.id}


async def slow_mode(svc: Services, ctx: OpContext, d: SlowMode) -> dict[str, Any]:
    key = Keys(ctx.event).rooms
    await svc.redis.hset(key, f"{d.room}:slow", d.seconds)
    await svc.redis.expire(key, svc.key_ttl)
    await ctx.hub.publish(ctx.event, messages.topic(d.room), {"kind": "slow_mode", "seconds": d.seconds})
    await log_action(svc, ctx, "slow_mode", detail=f"{d.room}: {d.seconds} s")
    return {"room": d.room, "seconds": d.seconds}


def _not_self(claims: Claims, user: str) -> None:
    if user == claims.sub:
        raise OpError("invalid_target", "moderators cannot mute or ban themselves")


async def mute(svc: Services, ctx: OpContext, d: Mute) -> dict[str, Any]:
    _not_self(ctx.claims, d.user)
    until = _now_ms() + d.minutes * 60_000
    key = Keys(ctx.event).mutes
    await svc.redis.zadd(key, {d.user: until})
    await svc.redis.expire(key, svc.key_ttl)
    await ctx.hub.direct(ctx.event, d.user, "chat:main", {"kind": "muted", "until": until})
    await log_action(svc, ctx, "mute", d.user, limits.clean_name(d.name),
                     f"{d.minutes} min" + (f": {d.reason}" if d.reason else ""))
    return {"user": d.user, "until": until}


async def ban(svc: Services, ctx: OpContext, d: Ban) -> dict[str, Any]:
    _not_self(ctx.claims, d.user)
    key = Keys(ctx.event).bans
    name = limits.clean_name(d.name)
    record = {"user": d.user, "name": name, "reason": d.reason, "at": _now_ms(), "by": ctx.claims.sub}
    await svc.redis.hset(key, d.user, msgspec.json.encode(record))
    await svc.redis.expire(key, svc.key_ttl)
    await ctx.hub.kick(ctx.event, d.user, Close.BANNED, "banned from this event")
    await log_action(svc, ctx, "ban", d.user, name, d.reason)
    return {"user": d.user}


async def unban(svc: Services, ctx: OpContext, d: Unban) -> dict[str, Any]:
    removed = await svc.redis.hdel(Keys(ctx.event).bans, d.user)
    if not removed:
        raise OpError("not_found", f"{d.user} is not banned")
    await log_action(svc, ctx, "unban", d.user)
    return {"user": d.user}


def join_check(svc: Services):  # type: ignore[no-untyped-def]
    """The hub's hello check: a banned user is refused before joining, on any node."""

    async def refuse_banned(event: str, claims: Claims) -> str | None:
        if await svc.redis.hexists(Keys(event).bans, claims.sub):
            return "you are banned from this event"
        return None

    return refuse_banned


async def state(svc: Services, event: str) -> dict[str, Any]:
    """Mutes in force, bans and room settings: what the moderator console shows beside the log."""
    keys = Keys(event)
    now = _now_ms()
    mutes: Any = await svc.redis.zrangebyscore(keys.mutes, now, "+inf", withscores=True)
    bans = [msgspec.json.decode(v) for v in (await svc.redis.hgetall(keys.bans)).values()]
    return {
        "mutes": [{"user": history.text(u), "until": int(s)} for u, s in mutes],
        "bans": bans,
        "slow_mode": {room: await limits.slow_mode_seconds(svc, event, room) for room in messages.ROOM_ROLES},
    }
