"""Which segment a message or question belongs to, and the counts the attendance report reads.

The agenda capability owns "what is on now"; it is looked up lazily so chat works (with no
segment) even on a build without it, and cached for a second so a busy room does not ask the
agenda on every message.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from server.chat.history import text
from server.services import Services
from server.store.keys import Keys

log = logging.getLogger("plenary.chat")

# no cache: a line sent just after a click must count in the new segment, as attendance does
_CACHE_SECONDS = 0.0
_segment_cache: dict[str, tuple[float, str | None]] = {}


async def segment_now(svc: Services, event: str) -> str | None:
    """The id of the segment that is on, or None (before, after, or no agenda capability)."""
    cached = _segment_cache.get(event)
    now = time.monotonic()
    if cached is not None and now - cached[0] < _CACHE_SECONDS:
        return cached[1]
    try:
        from server.agenda.state import current_segment
    except ImportError:
        return None
    try:
        segment = await current_segment(svc, event)
    except Exception:
        log.exception("could not read the current segment of %s", event)
        return None
    seg_id = getattr(segment, "id", None) if segment is not None else None
    _segment_cache[event] = (now, seg_id)
    return seg_id


async def counts(svc: Services, event_id: str) -> dict[str, Any]:
    """Chat messages and questions: total, per segment, per person.

    ``{"chat": n, "questions": n, "by_segment": {seg: {"chat": n, "questions": n}},
    "by_user": {user: {"chat": n, "questions": n}}}``
    """
    keys = Keys(event_id)
    stats = await svc.redis.hgetall(keys.chat_stats)
    per_user = await svc.redis.hgetall(keys.chat_user_stats)
    out: dict[str, Any] = {"chat": 0, "questions": 0, "by_segment": {}, "by_user": {}}
    for raw_field, raw_value in stats.items():
        field, value = text(raw_field), int(raw_value)
        kind, _, segment = field.partition(":")
        if kind not in ("chat", "questions"):
            continue
        if segment:
            out["by_segment"].setdefault(segment, {"chat": 0, "questions": 0})[kind] = value
        else:
            out[kind] = value
    for raw_field, raw_value in per_user.items():
        user, _, kind = text(raw_field).rpartition(":")
        if kind in ("chat", "questions") and user:
            out["by_user"].setdefault(user, {"chat": 0, "questions": 0})[kind] = int(raw_value)
    return out
