"""Door check-in over HTTP: scan a badge in or out, and register walk-ins at the desk.

``POST /api/events/{event}/checkins`` answers 201 ``checked_in`` for a badge's first entry and 200
``already_checked_in`` for every later scan (the ``checkin_scan`` script adds the attendee to a
SET, so ten concurrent scans of one badge give exactly one 201). Exits remove the attendee from
the in-hall SET: "in the hall now" is entries minus exits, and a second exit changes nothing.
"""

from __future__ import annotations

import time
from typing import Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from server.agenda.model import Event
from server.attendance.badges import BadgeError, new_attendee_id, sign, svg, verify
from server.auth import Role, require
from server.problems import Problem, convert, json_response, read_json
from server.services import Services, event_of, services
from server.store.keys import Keys

DESK_ROLES = (Role.CHECKIN, Role.ORGANIZER)


class Scan(msgspec.Struct, frozen=True):
    badge: str
    direction: Literal["in", "out"] = "in"
    gate: str = ""


class WalkIn(msgspec.Struct, frozen=True):
    name: str
    organisation: str = ""
    country: str = ""
    gate: str = ""


def _clean(text: str, limit: int = 80) -> str:
    return " ".join(text.split())[:limit]


async def record(svc: Services, event: Event, attendee: str, person: dict[str, str], direction: str,
                 gate: str, actor: str) -> tuple[bool, bool, int]:
    """Apply one scan atomically: (first check-in, entered or left now, in the hall now)."""
    k = Keys(event.id)
    presence = svc.extras.get("attendance.presence")
    seg = presence.segment.get(event.id, "") if presence is not None else ""
    for _ in range(3):  # the node's idea of the live segment may lag the agenda by a tick
        reply = await svc.scripts.run(
            "checkin_scan",
            [k.checkin, k.in_hall, k.checkin_log, k.registrants, k.reached, k.peaks, k.segment_marks,
             k.segment_in_person(seg or "_none"), k.segment_now],
            [attendee, direction, gate, f"{time.time():.3f}", msgspec.json.encode(person), seg, svc.key_ttl,
             actor],
        )
        if int(reply[0]) != -1:
            first, moved, hall = reply
            return bool(first), bool(moved), int(hall)
        seg = reply[1].decode() if isinstance(reply[1], bytes) else str(reply[1])
        if presence is not None:
            presence.segment[event.id] = seg
    raise Problem(503, "unavailable", "the agenda kept moving during this scan; scan again",
                  headers={"Retry-After": "1"})


async def scan(request: Request) -> Response:
    event = event_of(request)
    claims = await require(request, event.id, DESK_ROLES)
    body: Scan = convert(await read_json(request, max_bytes=4096), Scan)
    svc = services(request)
    assert svc.settings.secret is not None
    try:
        badge = verify(svc.settings.secret, event.id, body.badge)
    except BadgeError as exc:
        raise Problem(422, "invalid_badge", str(exc)) from None
    person = {"name": badge.name, "kind": "badge"}
    first, moved, hall = await record(svc, event, badge.attendee, person, body.direction,
                                      _clean(body.gate, 40), claims.sub)
    who = {"id": badge.attendee, "name": badge.name}
    if body.direction == "out":
        return json_response({"status": "checked_out" if moved else "not_in_hall", "attendee": who,
                              "in_hall": hall})
    if first:
        return json_response({"status": "checked_in", "attendee": who, "in_hall": hall}, status=201)
    return json_response({"status": "already_checked_in", "reentered": moved, "attendee": who,
                          "in_hall": hall})


async def walkin(request: Request) -> Response:
    event = event_of(request)
    claims = await require(request, event.id, DESK_ROLES)
    body: WalkIn = convert(await read_json(request, max_bytes=4096), WalkIn)
    name = _clean(body.name)
    if not name:
        raise Problem(422, "invalid_name", "a walk-in needs a name")
    svc = services(request)
    assert svc.settings.secret is not None
    attendee = new_attendee_id("walkin")
    text = sign(svc.settings.secret, event.id, attendee, name)
    person = {"name": name, "kind": "walk-in"}
    for trait in ("organisation", "country"):
        value = _clean(getattr(body, trait))
        if value:
            person[trait] = value
    _, _, hall = await record(svc, event, attendee, person, "in", _clean(body.gate, 40), claims.sub)
    return json_response({
        "status": "checked_in", "attendee": {"id": attendee, "name": name}, "in_hall": hall, "badge": text,
        "svg": svg(text, name, event.info.title, person.get("organisation", ""), person.get("country", "")),
    }, status=201)
