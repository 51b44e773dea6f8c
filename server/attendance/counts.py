"""The attendance figures organizers see, read from Redis in one round trip.

Every figure is exact: online now is a count over expiring entries, unique and reached are SETs,
check-ins a SET. docs/attendance.md says when a very large event would trade the unique SET for a
HyperLogLog.
"""

from __future__ import annotations

import time
from typing import Any

from server.agenda.model import Event, Segment
from server.services import Services
from server.store.keys import Keys

SERIES_POINTS = 1080  # 3 h of 10 s points: a whole session on the chart


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _num(value: Any) -> float:
    try:
        return float(_s(value)) if value is not None else 0.0
    except ValueError:
        return 0.0


def _hash(raw: dict[Any, Any]) -> dict[str, str]:
    return {_s(k): _s(v) for k, v in raw.items()}


def _groups(raw: dict[Any, Any]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {"country": {}, "organisation": {}}
    for field, value in _hash(raw).items():
        kind, _, name = field.partition(":")
        n = int(_num(value))
        if kind in found and n > 0:
            found[kind][name] = n
    return {kind: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))) for kind, v in found.items()}


async def figures(svc: Services, event: Event, *, series: bool = True) -> dict[str, Any]:
    """Every figure of ``event`` as JSON; ``series=False`` leaves the chart points out (pushes)."""
    k = Keys(event.id)
    now = time.time()
    pipe = svc.redis.pipeline(transaction=False)
    pipe.zcount(k.presence_users, f"({now:.3f}", "+inf")
    pipe.scard(k.in_hall)
    pipe.scard(k.reached)
    pipe.hgetall(k.peaks)
    pipe.scard(k.unique_online)
    pipe.scard(k.checkin)
    pipe.hgetall(k.attendance_totals)
    pipe.hgetall(k.online_by)
    pipe.hgetall(k.unique_by)
    pipe.hgetall(k.segment_marks)
    pipe.hgetall(k.segment_now)
    for segment in event.segments:
        pipe.scard(k.segment_viewers(segment.id))
        pipe.scard(k.segment_in_person(segment.id))
    if series:
        pipe.xrevrange(k.timeseries, "+", "-", count=SERIES_POINTS)
    out = await pipe.execute()
    online, in_hall, reached, peaks_raw, unique, checked_in = out[:6]
    totals_raw, online_by, unique_by, marks_raw, now_raw = out[6:11]
    peaks, totals, marks, live = _hash(peaks_raw), _hash(totals_raw), _hash(marks_raw), _hash(now_raw)
    # users online now have watched since their stretch began: sum(now - since) without a scan
    watch = (_num(totals.get("watch_total")) + now * _num(totals.get("since_n"))
             - _num(totals.get("since_sum")))
    per_segment = out[11:11 + 2 * len(event.segments)]
    data: dict[str, Any] = {
        "event": event.id,
        "at": round(now, 3),
        "online_now": int(online),
        "in_person_now": int(in_hall),
        "reached": int(reached),
        "peak_online": int(_num(peaks.get("online"))),
        "peak_online_at": _num(peaks.get("online_at")) or None,
        "peak_in_person": int(_num(peaks.get("in_person"))),
        "peak_in_person_at": _num(peaks.get("in_person_at")) or None,
        "unique_online": int(unique),
        "checked_in_total": int(checked_in),
        "watch_time_s": round(max(0.0, watch)),
        "online_by": _groups(online_by),
        "unique_by": _groups(unique_by),
        "current_segment": live.get("id") or None,
        "segments": [
            segment_row(event, segment, marks, int(per_segment[2 * i]), int(per_segment[2 * i + 1]))
            for i, segment in enumerate(event.segments)
        ],
    }
    if series:
        data["series"] = [point(entry) for entry in reversed(out[-1])]
    return data


def segment_row(
    event: Event, segment: Segment, marks: dict[str, str], viewers: int, in_person: int
) -> dict[str, Any]:
    def mark(name: str) -> float | None:
        value = marks.get(f"{segment.id}:{name}")
        return float(value) if value is not None else None

    def count(name: str) -> int | None:
        value = mark(name)
        return None if value is None else int(value)

    return {
        "id": segment.id,
        "title": segment.title,
        "planned_start": event.planned_start(segment).isoformat(),
        "planned_end": event.planned_end(segment).isoformat(),
        "started_at": mark("started_at"),
        "ended_at": mark("ended_at"),
        "unique_viewers": viewers,
        "in_person": in_person,
        "start_online": count("start_online"),
        "end_online": count("end_online"),
        "start_in_person": count("start_in_person"),
        "end_in_person": count("end_in_person"),
        "peak_online": count("peak_online") or 0,
        "peak_in_person": count("peak_in_person") or 0,
    }


def point(entry: tuple[Any, dict[Any, Any]]) -> dict[str, Any]:
    fields = _hash(entry[1])
    return {"t": _num(fields.get("t")), "online": int(_num(fields.get("online"))),
            "in_person": int(_num(fields.get("in_person"))), "segment": fields.get("segment") or None}
