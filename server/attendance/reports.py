"""CSV reports for organizers: one row per segment, and one row per person reached.

Questions and chat messages come from the chat capability's public ``server.chat.stats.counts``;
without it (or if it fails) those columns are 0 and the rest of the report still comes out.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from typing import Any

from server.agenda.model import Event
from server.attendance.counts import figures
from server.services import Services
from server.store.keys import Keys

log = logging.getLogger("plenary.attendance")

SEGMENT_COLUMNS = ["segment", "title", "planned_start", "planned_end", "actual_start", "actual_end",
                   "unique_online_viewers", "online_at_start", "online_at_end", "peak_online",
                   "in_hall", "in_hall_at_start", "in_hall_at_end", "peak_in_hall", "questions",
                   "chat_messages"]
ATTENDEE_COLUMNS = ["attendee_id", "name", "role", "country", "organisation", "online", "in_person",
                    "watch_minutes", "segments_online", "segments_in_person", "questions", "chat_messages"]


async def chat_counts(svc: Services, event_id: str) -> dict[str, Any]:
    try:
        from server.chat.stats import counts
    except ImportError:
        return {}
    try:
        found: dict[str, Any] = await counts(svc, event_id)
        return found
    except Exception:
        log.exception("chat counts failed; the report shows 0 questions and messages")
        return {}


def _iso(ts: float | None, event: Event) -> str:
    return dt.datetime.fromtimestamp(ts, event.tz).isoformat(timespec="seconds") if ts else ""


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _csv(rows: list[list[Any]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        # a cell starting with = + - @ would run as a formula in a spreadsheet; names are user input
        writer.writerow([f"'{c}" if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c for c in row])
    return out.getvalue()


async def segments_csv(svc: Services, event: Event) -> str:
    data = await figures(svc, event, series=False)
    chat = (await chat_counts(svc, event.id)).get("by_segment", {})
    rows = []
    for seg in data["segments"]:
        per = chat.get(seg["id"], {})
        rows.append([
            seg["id"], seg["title"], seg["planned_start"], seg["planned_end"],
            _iso(seg["started_at"], event), _iso(seg["ended_at"], event),
            seg["unique_viewers"], _blank(seg["start_online"]), _blank(seg["end_online"]), seg["peak_online"],
            seg["in_person"], _blank(seg["start_in_person"]), _blank(seg["end_in_person"]),
            seg["peak_in_person"],
            int(per.get("questions", 0)), int(per.get("chat", 0)),
        ])
    return _csv(rows, SEGMENT_COLUMNS)


def _decode_set(values: set[bytes]) -> set[str]:
    return {v.decode() for v in values}


async def attendees_csv(svc: Services, event: Event) -> str:
    import msgspec

    k = Keys(event.id)
    pipe = svc.redis.pipeline(transaction=False)
    pipe.hgetall(k.people)
    pipe.hgetall(k.registrants)
    pipe.smembers(k.checkin)
    pipe.smembers(k.unique_online)
    pipe.hgetall(k.watch_time)
    pipe.hgetall(k.presence_since)
    for seg in event.segments:
        pipe.smembers(k.segment_viewers(seg.id))
        pipe.smembers(k.segment_in_person(seg.id))
    out = await pipe.execute()
    people_raw, registrants_raw, checked_in, online, watch_raw, since_raw = out[:6]
    profiles: dict[str, dict[str, Any]] = {}
    for raw in (registrants_raw, people_raw):  # an online profile (from the token) is the fresher one
        for user, blob in raw.items():
            try:
                profiles.setdefault(user.decode(), {}).update(msgspec.json.decode(blob))
            except msgspec.DecodeError:
                continue
    checked, watched = _decode_set(checked_in), _decode_set(online)
    import time

    now = time.time()
    minutes: dict[str, float] = {u.decode(): float(v) for u, v in watch_raw.items()}
    for user, since in since_raw.items():
        minutes[user.decode()] = minutes.get(user.decode(), 0.0) + max(0.0, now - float(since))
    seen_online = {seg.id: _decode_set(out[6 + 2 * i]) for i, seg in enumerate(event.segments)}
    seen_hall = {seg.id: _decode_set(out[7 + 2 * i]) for i, seg in enumerate(event.segments)}
    chat = (await chat_counts(svc, event.id)).get("by_user", {})
    rows = []
    for user in sorted(checked | watched):
        p = profiles.get(user, {})
        per = chat.get(user, {})
        rows.append([
            user, p.get("name", ""), p.get("role", "attendee" if user in checked else ""),
            p.get("country", ""), p.get("organisation", ""),
            "yes" if user in watched else "no", "yes" if user in checked else "no",
            round(minutes.get(user, 0.0) / 60, 1),
            ";".join(s.id for s in event.segments if user in seen_online[s.id]),
            ";".join(s.id for s in event.segments if user in seen_hall[s.id]),
            int(per.get("questions", 0)), int(per.get("chat", 0)),
        ])
    return _csv(rows, ATTENDEE_COLUMNS)
