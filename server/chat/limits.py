"""What a message must pass before it is stored: clean text, the user's rate, the room's slow mode, mutes.

Every limit lives in Redis, so it holds across nodes: a user who spreads sends over two nodes
drains one bucket. Refusals are :class:`OpError` with a stable code and ``retry_after`` in ms.
"""

from __future__ import annotations

import re
import time

from server.realtime.hub import OpError
from server.services import Services
from server.store.keys import Keys

# C0/C1 controls except newline, plus bidi overrides/isolates that let a name or line read backwards.
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(raw: str, max_chars: int) -> str:
    """Strip control characters and surrounding space; ``invalid_text`` unless 1..max_chars remain."""
    text = _BLANK_LINES.sub("\n\n", _CONTROL.sub("", raw)).strip()
    if not text:
        raise OpError("invalid_text", "the message is empty")
    if len(text) > max_chars:
        raise OpError("invalid_text", f"the message has {len(text)} characters; the limit is {max_chars}",
                      max_chars=max_chars)
    return text


def clean_name(raw: str) -> str:
    return " ".join(_CONTROL.sub("", raw).split())[:80]


async def take_rate(svc: Services, event: str, kind: str, user: str) -> None:
    """One token from the user's bucket for ``kind`` (chat, qa), or ``rate_limited``."""
    settings = svc.settings
    allowed, retry = await svc.scripts.run(
        "rate_take", [Keys(event).ratelimit(kind, user)],
        [settings.chat_rate, settings.chat_burst, int(time.time() * 1000)],
    )
    if not int(allowed):
        raise OpError("rate_limited", f"too many messages; wait {int(retry) / 1000:.1f} s",
                      retry_after=int(retry))


async def slow_mode_seconds(svc: Services, event: str, room: str) -> int:
    raw = await svc.redis.hget(Keys(event).rooms, f"{room}:slow")
    return int(raw or 0)


async def take_slow_mode(svc: Services, event: str, room: str, user: str) -> None:
    """In slow mode, one message per N seconds per user; ``slow_mode`` with the wait otherwise."""
    seconds = await slow_mode_seconds(svc, event, room)
    if seconds <= 0:
        return
    key = Keys(event).slowmode(room, user)
    if await svc.redis.set(key, b"1", nx=True, px=seconds * 1000):
        return
    left = await svc.redis.pttl(key)
    retry = max(1, int(left)) if left and int(left) > 0 else seconds * 1000
    raise OpError("slow_mode", f"slow mode: one message every {seconds} s; wait {retry / 1000:.1f} s",
                  retry_after=retry, seconds=seconds)


async def muted_until(svc: Services, event: str, user: str) -> int:
    """Unix ms until which ``user`` is muted, or 0."""
    score = await svc.redis.zscore(Keys(event).mutes, user)
    until = int(score or 0)
    return until if until > time.time() * 1000 else 0


async def check_muted(svc: Services, event: str, user: str) -> None:
    until = await muted_until(svc, event, user)
    if until:
        left = until - int(time.time() * 1000)
        raise OpError("muted", f"you are muted for {max(1, left // 60000)} more minute(s)",
                      until=until, retry_after=left)
