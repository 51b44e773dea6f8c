"""Schedule interchange: frab/pretalx ``schedule.json`` out and in, iCalendar out.

The JSON follows the frab schema as pretalx emits it (c3voc ``schema.json`` v1 field list):
events carry only the schema's keys; what frab has no field for (segment kind, each person's part,
title, organisation, country) rides in ``conference.meta["x-plenary"]``, keyed by event guid, so
an export imported again gives back the same agenda. A plain frab file from elsewhere imports
too: kinds then come from ``type`` and people are speakers.

GUIDs and UIDs are derived from the event and segment ids, so they stay the same across exports
and when a segment moves. ``schedule.version`` is a digest of the agenda's content: it changes
exactly when the published agenda does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import msgspec
import yaml

from server.agenda.model import Event, Kind, Part, Segment

SCHEMA = "https://c3voc.de/schedule/schema.json"
GENERATOR = {"name": "plenary", "version": "0.1", "url": "https://plenary.dev/"}
DAY_START_HOUR = 4  # as pretalx: a day runs 04:00 to 03:59 the next morning
_NS = uuid.UUID("8c0f4a52-7f43-4a5e-9a53-2b1f7a0f3e11")  # Plenary's UUID5 namespace; never change it
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def guid(event_id: str, *parts: str) -> str:
    return str(uuid.uuid5(_NS, ":".join((event_id, *parts))))


def _slug(text: str) -> str:
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out or "x"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def version_of(event: Event) -> str:
    digest = hashlib.sha256(msgspec.json.encode([event.info, event.segments])).hexdigest()[:12]
    return f"{event.info.date.isoformat()}-{digest}"


def _room(event: Event) -> str:
    return event.info.venue


def schedule_json(event: Event, base_url: str = "") -> dict[str, Any]:
    """The frab/pretalx schedule JSON of ``event``."""
    info = event.info
    room = _room(event)
    day_start = dt.datetime.combine(info.date, dt.time(DAY_START_HOUR), tzinfo=event.tz)
    sidecar: dict[str, Any] = {}
    talks: list[dict[str, Any]] = []
    for number, s in enumerate(event.segments, start=1):
        gid = guid(info.id, "segment", s.id)
        start = event.planned_start(s)
        talks.append({
            "guid": gid,
            "id": number,
            "date": start.isoformat(),
            "start": start.strftime("%H:%M"),
            "duration": _hhmm(s.duration),
            "room": room,
            "slug": f"{_slug(info.id)}-{number}-{_slug(s.id)}"[:120].rstrip("-_"),
            "url": f"{base_url}/?event={info.id}#{s.id}",
            "title": _clean(s.title),
            "subtitle": "",
            "track": None,
            "type": s.kind.value,
            "language": info.languages[0] if info.languages else "en",
            "abstract": _clean(s.description or ""),
            "description": None,
            "recording_license": "",
            "do_not_record": False,
            "persons": [
                {"name": p.name, "public_name": p.name, "guid": guid(info.id, "person", p.key),
                 "id": None, "url": None}
                for p in s.people
            ],
            "links": [],
        })
        sidecar[gid] = {
            "id": s.id,
            "kind": s.kind.value,
            "media": s.media,
            "people": [msgspec.to_builtins(p) for p in s.people],
        }
    conference = {
        "acronym": _acronym(info.id),
        "title": info.title,
        "start": info.date.isoformat(),
        "end": info.date.isoformat(),
        "daysCount": 1,
        "timeslot_duration": "00:05",
        "time_zone_name": info.timezone,
        "url": f"{base_url}/?event={info.id}",
        "rooms": [{"name": room, "slug": _slug(room)[:60], "guid": guid(info.id, "room", room),
                   "description": ""}],
        "tracks": [],
        "meta": {"x-plenary": {
            "event": {k: v for k, v in msgspec.to_builtins(info).items() if k not in ("date",)},
            "segments": sidecar,
        }},
        "days": [{
            "index": 1,
            "date": info.date.isoformat(),
            "day_start": day_start.isoformat(),
            "day_end": (day_start + dt.timedelta(days=1, minutes=-1)).isoformat(),
            "rooms": {room: talks},
        }],
    }
    return {
        "$schema": SCHEMA,
        "generator": GENERATOR,
        "schedule": {
            "version": version_of(event),
            "base_url": f"{base_url}/",
            "url": f"{base_url}/?event={info.id}",
            "conference": conference,
        },
    }


def _acronym(event_id: str) -> str:
    # c3voc's pattern: ^[a-z0-9_-][a-z0-9_]{3,}(-2[0-9]{3}-[a-z]+)?$ ; "zgc-sco-2021" -> "zgc_sco_2021"
    return event_id.replace("-", "_")


def _clean(text: str) -> str:
    """Exports carry no control characters (a newline and a tab are fine)."""
    return _CONTROL.sub("", text)


def schedule_ics(event: Event, netloc: str = "plenary", base_url: str = "") -> bytes:
    """The agenda as an iCalendar feed (RFC 5545): one VEVENT per segment, TZID with VTIMEZONE."""
    info = event.info
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//plenary//{netloc}//{info.id}")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("name", info.title)
    cal.add("x-wr-calname", info.title)
    cal.add("x-wr-timezone", info.timezone)
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for s in event.segments:
        vevent = icalendar.Event()
        vevent.add("uid", f"plenary-{info.id}-{s.id}@{netloc}")
        vevent.add("dtstamp", stamp)
        vevent.add("dtstart", event.planned_start(s))
        vevent.add("dtend", event.planned_end(s))
        people = ", ".join(p.name for p in s.people)
        vevent.add("summary", _clean(f"{s.title} - {people}" if people else s.title))
        vevent.add("location", _clean(info.venue))
        description = "\n".join(x for x in (s.description, _people_lines(s)) if x)
        if description:
            vevent.add("description", _clean(description))
        vevent.add("categories", [s.kind.value])
        if base_url:
            vevent.add("url", f"{base_url}/?event={info.id}#{s.id}")
        cal.add_component(vevent)
    cal.add_missing_timezones()
    ics: bytes = cal.to_ical()
    return ics


def _people_lines(s: Segment) -> str:
    lines = []
    for p in s.people:
        extra = ", ".join(x for x in (p.title, p.organisation, p.country) if x)
        lines.append(f"{p.part.value}: {p.name}" + (f" ({extra})" if extra else ""))
    return "\n".join(lines)


# --- import ---------------------------------------------------------------------------------


def _duration(text: str) -> int:
    match = re.fullmatch(r"(?:(\d+):)?(\d+):(\d{2})", text.strip())
    if not match:
        raise ValueError(f"duration {text!r} is not H:MM")
    days, hours, minutes = (int(x) if x else 0 for x in match.groups())
    return days * 1440 + hours * 60 + minutes


def _talks(schedule: dict[str, Any]) -> list[dict[str, Any]]:
    """Events of either shape: frab v1 (days -> rooms -> events) or schedule2 (flat events[])."""
    conference = schedule.get("conference") or {}
    talks: list[dict[str, Any]] = []
    for day in conference.get("days") or []:
        for room_name, events in (day.get("rooms") or {}).items():
            for talk in events or []:
                talks.append({"room": room_name, **talk})
    for talk in schedule.get("events") or conference.get("events") or []:
        room = talk.get("room")
        talks.append({**talk, "room": room.get("name") if isinstance(room, dict) else room})
    return talks


def _segment_id(talk: dict[str, Any], used: set[str]) -> str:
    name = talk.get("slug") or talk.get("title") or talk.get("id") or "segment"
    base = _slug(str(name))[:56].strip("-") or "segment"
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base}-{n}", n + 1
    used.add(candidate)
    return candidate


def import_frab(text: str) -> str:
    """Turn a frab/pretalx schedule JSON into the YAML of a Plenary event file.

    Raises ``ValueError`` naming what is wrong: not JSON, no events, several days (an event file
    is one session on one day), a bad date or duration.
    """
    try:
        doc = msgspec.json.decode(text.encode())
    except msgspec.DecodeError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    schedule = doc.get("schedule") if isinstance(doc, dict) else None
    if not isinstance(schedule, dict):
        raise ValueError("no 'schedule' object: this is not a frab/pretalx schedule.json")
    conference = schedule.get("conference") or {}
    meta = ((conference.get("meta") or {}).get("x-plenary")) or {}
    extra: dict[str, Any] = meta.get("segments") or {}
    tz_name = conference.get("time_zone_name") or "UTC"
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"conference.time_zone_name {tz_name!r} is not a known time zone") from None
    talks = _talks(schedule)
    if not talks:
        raise ValueError("the schedule has no events")
    rows = []
    for talk in talks:
        where = f"event {talk.get('guid') or talk.get('id')!r}"
        try:
            start = dt.datetime.fromisoformat(str(talk["date"] if "date" in talk else talk["start"]))
        except (KeyError, ValueError):
            raise ValueError(f"{where}: 'date' is not an ISO date-time") from None
        start = start.replace(tzinfo=tz) if start.tzinfo is None else start.astimezone(tz)
        if talk.get("duration"):
            minutes = _duration(str(talk["duration"]))
        elif talk.get("end"):
            minutes = int((dt.datetime.fromisoformat(str(talk["end"])) - start).total_seconds() // 60)
        else:
            raise ValueError(f"{where}: neither 'duration' nor 'end'")
        rows.append((start, minutes, talk))
    rows.sort(key=lambda r: r[0])
    dates = {r[0].date() for r in rows}
    if len(dates) > 1:
        raise ValueError(f"the schedule spans {len(dates)} days; an event file holds one day: split it")
    info = dict(meta.get("event") or {})
    acronym = str(conference.get("acronym") or "imported")
    info.setdefault("id", _slug(acronym)[:64])
    info["title"] = conference.get("title") or info.get("title") or acronym
    info["date"] = rows[0][0].date()
    info["timezone"] = tz_name
    info.setdefault("venue", rows[0][2].get("room") or "Main hall")
    info = {k: v for k, v in info.items() if v not in (None, [], "")}
    used: set[str] = set()
    segments = []
    for start, minutes, talk in rows:
        side = extra.get(str(talk.get("guid"))) or {}
        kinds = {k.value for k in Kind}
        kind = side.get("kind") or (talk.get("type") if talk.get("type") in kinds else "speech")
        seg: dict[str, Any] = {
            "id": side.get("id") or _segment_id(talk, used),
            "kind": kind,
            "title": talk.get("title") or "Untitled",
            "start": start.strftime("%H:%M"),
            "duration": minutes,
        }
        used.add(seg["id"])
        people = side.get("people") or [
            {"name": p.get("public_name") or p.get("name"), "part": Part.SPEAKER.value}
            for p in talk.get("persons") or talk.get("participants") or []
            if p.get("public_name") or p.get("name")
        ]
        if people:
            seg["people"] = [{k: v for k, v in p.items() if v is not None} for p in people]
        if side.get("media"):
            seg["media"] = side["media"]
        if talk.get("abstract"):
            seg["description"] = talk["abstract"]
        segments.append(seg)
    header = (f"# Imported from a frab/pretalx schedule (version {schedule.get('version', '?')}) "
              f"by `plenary agenda import`.\n")
    body: str = yaml.safe_dump({"event": info, "segments": segments}, sort_keys=False, allow_unicode=True,
                               width=110)
    return header + body
