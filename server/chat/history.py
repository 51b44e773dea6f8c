"""Chat rooms as bounded Redis Streams: append once per client message id, read back without the deleted.

The stream is the room's record (snapshots, export); live delivery and resume go through the
hub's topic history, which carries the same messages with a sequence. A deleted message stays in
the stream (moderators export it, flagged) but its id joins the room's deleted SET, and nobody
else is ever shown it again.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from server.chat.model import Message
from server.services import Services
from server.store.keys import Keys

ROOM_SIZE = 1000  # approximate MAXLEN of a room's stream
DEDUPE_SECONDS = 600  # a retried send within ten minutes is recognised
RECENT = 100  # messages a joining client gets

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Message).decode


def text(value: Any) -> str:
    """A Redis reply as str (the client returns bytes; its type hints say bytes | str)."""
    return value.decode() if isinstance(value, bytes) else str(value)


async def append(svc: Services, event: str, message: Message, counter: str = "chat") -> tuple[Message, bool]:
    """Store and push ``message`` unless this (user, cid) was stored already; return it with its id, and if new.

    The push on ``chat:<room>`` (``{"kind": "message", "message": ...}``) leaves from the same script.
    """
    keys = Keys(event)
    topic_keys, topic_args = svc.bus.publish_keys(event, f"chat:{message.room}")
    new, stream_id = await svc.scripts.run(
        "chat_append",
        [keys.chat(message.room), keys.chat_dedupe(message.user, f"{message.room}:{message.cid}"),
         keys.chat_stats, keys.chat_user_stats, *topic_keys],
        [_encode(message), ROOM_SIZE, svc.key_ttl, DEDUPE_SECONDS, counter, message.segment or "",
         message.user, *topic_args],
    )
    sid = text(stream_id)
    if int(new):
        return msgspec.structs.replace(message, id=sid), True
    original = await get(svc, event, message.room, sid)
    return (original or msgspec.structs.replace(message, id=sid)), False


async def already_sent(svc: Services, event: str, room: str, user: str, cid: str) -> Message | None:
    """The message a retried (user, cid) stored first, so a retry skips the limits it passed already."""
    sid = await svc.redis.get(Keys(event).chat_dedupe(user, f"{room}:{cid}"))
    if sid is None:
        return None
    return await get(svc, event, room, text(sid))


def _parse(entry_id: Any, fields: Any) -> Message:
    return msgspec.structs.replace(_decode(fields[b"d"]), id=text(entry_id))


async def get(svc: Services, event: str, room: str, message_id: str) -> Message | None:
    entries: Any = await svc.redis.xrange(Keys(event).chat(room), min=message_id, max=message_id, count=1)
    return _parse(*entries[0]) if entries else None


async def deleted(svc: Services, event: str, room: str) -> set[str]:
    return {text(m) for m in await svc.redis.smembers(Keys(event).chat_deleted(room))}


async def mark_deleted(svc: Services, event: str, room: str, message_id: str) -> bool:
    key = Keys(event).chat_deleted(room)
    added = await svc.redis.sadd(key, message_id)
    await svc.redis.expire(key, svc.key_ttl)
    return bool(added)


async def recent(svc: Services, event: str, room: str, count: int = RECENT) -> list[Message]:
    """The last ``count`` visible messages, oldest first."""
    gone = await deleted(svc, event, room)
    entries: Any = await svc.redis.xrevrange(Keys(event).chat(room), count=count + len(gone))
    messages = [_parse(eid, fields) for eid, fields in entries if text(eid) not in gone]
    return list(reversed(messages[:count]))


class RoomView(msgspec.Struct, frozen=True):
    """What a joining reader sees of a room, read in one round trip."""

    messages: list[Message]
    pinned: Message | None
    slow_mode: int
    muted_until: int


async def room_view(svc: Services, event: str, room: str, user: str, count: int = RECENT) -> RoomView:
    """The last ``count`` visible messages, the pin, slow mode and ``user``'s mute, pipelined.

    A join storm reads this once per joiner, so it is one round trip instead of five.
    """
    k = Keys(event)
    spare = 100  # deleted messages the over-read can skip; more than that falls back to a second read
    async with svc.redis.pipeline(transaction=False) as pipe:
        pipe.smembers(k.chat_deleted(room))
        pipe.xrevrange(k.chat(room), count=count + spare)
        pipe.get(k.pinned_in(room))
        pipe.hget(k.rooms, f"{room}:slow")
        pipe.zscore(k.mutes, user)
        gone_raw, entries, pin_raw, slow, mute = await pipe.execute()
    gone = {text(m) for m in gone_raw}
    if len(gone) > spare:
        entries = await svc.redis.xrevrange(k.chat(room), count=count + len(gone))
    messages = [_parse(eid, fields) for eid, fields in entries if text(eid) not in gone]
    until = int(mute or 0)
    return RoomView(
        messages=list(reversed(messages[:count])),
        pinned=msgspec.json.decode(pin_raw, type=Message) if pin_raw else None,
        slow_mode=int(slow or 0),
        muted_until=until if until > time.time() * 1000 else 0,
    )


async def export(
    svc: Services, event: str, room: str, after: str | None, limit: int
) -> list[dict[str, object]]:
    """Messages after ``after`` (exclusive), oldest first, deleted ones flagged: the moderators' export."""
    gone = await deleted(svc, event, room)
    start = f"({after}" if after else "-"
    entries: Any = await svc.redis.xrange(Keys(event).chat(room), min=start, max="+", count=limit)
    out: list[dict[str, object]] = []
    for eid, fields in entries:
        item = msgspec.to_builtins(_parse(eid, fields))
        item["deleted"] = item["id"] in gone
        out.append(item)
    return out


async def pinned(svc: Services, event: str, room: str) -> Message | None:
    raw = await svc.redis.get(Keys(event).pinned_in(room))
    return msgspec.json.decode(raw, type=Message) if raw else None


async def set_pinned(svc: Services, event: str, room: str, message: Message | None) -> None:
    key = Keys(event).pinned_in(room)
    if message is None:
        await svc.redis.delete(key)
    else:
        await svc.redis.set(key, _encode(message), ex=svc.key_ttl)
