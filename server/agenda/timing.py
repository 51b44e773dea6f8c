"""Planned against actual: the timeline, the overrun ("running 6 min late") and the projected end.

Every view carries ``server_time`` (ms) so a client counts down against the server's clock,
not its own. All instants are integer milliseconds since the epoch.

Which plan is "on time" measured against? On the event's own date, the wall clock of the file
(a 14:00 segment is due at 14:00 venue time). Run on any other date (a rehearsal, a demo, a
replay of the reference event), the plan is re-anchored at the moment the session started, so
the overrun measures drift against the running order rather than years since the real event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from server.agenda.machine import AgendaState, Status
from server.agenda.model import Event, Segment

MINUTE = 60_000


def _ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


def _iso(ms: int | None, event: Event) -> str | None:
    if not ms:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, event.tz).isoformat(timespec="seconds")


def _local_date(ms: int, event: Event) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, event.tz).date()


def anchor_shift(event: Event, state: AgendaState, now: int) -> int | None:
    """Milliseconds to add to the file's times to get the schedule we compare against (None: none)."""
    first = _ms(event.starts_at)
    if state.started_at:
        return 0 if _local_date(state.started_at, event) == event.info.date else state.started_at - first
    return 0 if _local_date(now, event) == event.info.date else None


def segment_json(event: Event, segment: Segment | None, extension: int = 0) -> dict[str, Any] | None:
    if segment is None:
        return None
    return {
        "id": segment.id,
        "kind": segment.kind.value,
        "title": segment.title,
        "people": [msgspec.to_builtins(p) for p in segment.people],
        "planned_start": event.planned_start(segment).isoformat(),
        "duration": segment.duration,
        "extended": extension,
        "media": segment.media,
    }


def _label(status: Status, minutes: int | None) -> str:
    if minutes is None:
        return ""
    if status is Status.ENDED:
        verb = "ended"
    elif status is Status.NOT_STARTED:
        verb = "starting"
    else:
        verb = "running"
    if minutes == 0:
        return f"{verb} on time"
    return f"{verb} {abs(minutes)} min {'late' if minutes > 0 else 'early'}"


def view(event: Event, state: AgendaState, now: int) -> dict[str, Any]:
    """The state as clients see it: status, now/next, countdown inputs, timeline, overrun."""
    segments = event.segments
    shift = anchor_shift(event, state, now)
    length = [(s.duration + state.extensions.get(s.id, 0)) * MINUTE for s in segments]
    scheduled_end = _ms(event.ends_at) + (shift or 0)
    index = state.index
    on = state.status in (Status.LIVE, Status.PAUSED) and 0 <= index < len(segments)
    current = segments[index] if on else None
    remaining: int | None = None
    segment_ends_at: int | None = None
    projected: list[int | None] = [None] * len(segments)
    projected_end: int
    if current is not None:
        clock = state.paused_at if state.status is Status.PAUSED else now
        elapsed = clock - state.segment_started_at - state.paused_ms
        remaining = length[index] - elapsed
        if state.status is Status.LIVE:
            segment_ends_at = state.segment_started_at + state.paused_ms + length[index]
        cursor = now + max(0, remaining)
        for j in range(index + 1, len(segments)):
            projected[j] = cursor
            cursor += length[j]
        projected_end = cursor
    elif state.status is Status.ENDED:
        projected_end = state.ended_at
    else:
        cursor = _ms(event.starts_at) if shift is None else max(now, _ms(event.starts_at) + shift)
        for j in range(len(segments)):
            projected[j] = cursor
            cursor += length[j]
        projected_end = cursor
    overrun = None if shift is None else round((projected_end - scheduled_end) / MINUTE)
    timeline = []
    for j, s in enumerate(segments):
        planned = _ms(event.planned_start(s))
        span = state.actual.get(s.id)
        actual_start = span[0] if span else None
        scheduled = planned + (shift or 0)
        timeline.append({
            "id": s.id,
            "title": s.title,
            "kind": s.kind.value,
            "planned_start": planned,
            "planned_end": planned + s.duration * MINUTE,
            "scheduled_start": scheduled,
            "duration": s.duration,
            "extended": state.extensions.get(s.id, 0),
            "actual_start": actual_start,
            "actual_end": (span[1] or None) if span else None,
            "projected_start": projected[j],
            "delta_minutes": None if actual_start is None or shift is None
            else round((actual_start - scheduled) / MINUTE),
        })
    following = segments[index + 1] if current is not None and index + 1 < len(segments) else None
    if state.status is Status.NOT_STARTED:
        following = segments[0]
    return {
        "event": event.id,
        "status": state.status.value,
        "version": state.version,
        "index": index,
        "count": len(segments),
        "segment": segment_json(event, current, state.extensions.get(current.id, 0) if current else 0),
        "next": segment_json(event, following, state.extensions.get(following.id, 0) if following else 0),
        "started_at": state.started_at or None,
        "ended_at": state.ended_at or None,
        "segment_started_at": state.segment_started_at or None if current is not None else None,
        "segment_ends_at": segment_ends_at,
        "paused_at": state.paused_at or None,
        "remaining_ms": remaining,
        "overrun_minutes": overrun,
        "running": _label(state.status, overrun),
        "projected_end": projected_end,
        "projected_end_iso": _iso(projected_end, event),
        "planned_end": _ms(event.ends_at),
        "anchored": shift is not None and shift != 0,
        "timezone": event.info.timezone,
        "timeline": timeline,
        "server_time": now,
    }
