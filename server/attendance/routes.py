"""HTTP routes and hub wiring of the attendance capability.

- ``GET  /api/events/{event}/attendance``      figures JSON (organizer, moderator)
- ``GET  /api/events/{event}/attendance.csv``  one row per segment (organizer)
- ``GET  /api/events/{event}/attendees.csv``   one row per person reached (organizer)
- ``POST /api/events/{event}/checkins``        badge scan in or out (checkin, organizer)
- ``POST /api/events/{event}/walkins``         register and check in a walk-in (checkin, organizer)
- hub topic ``attendance`` (organizer, moderator): snapshot = the figures, a push at most once a
  second when a count changed, with ``point`` set when a new 10 s chart point was written.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.attendance.checkin import scan, walkin
from server.attendance.counts import figures
from server.attendance.presence import Presence
from server.attendance.reports import attendees_csv, segments_csv
from server.attendance.ticker import TOPIC, Ticker
from server.auth import Claims, Role, require
from server.problems import json_response
from server.services import Services, event_of, services

READERS = (Role.ORGANIZER, Role.MODERATOR)


async def attendance(request: Request) -> Response:
    event = event_of(request)
    await require(request, event.id, READERS)
    return json_response(await figures(services(request), event), headers={"Cache-Control": "no-store"})


def _csv_response(text: str, filename: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


async def attendance_csv(request: Request) -> Response:
    event = event_of(request)
    await require(request, event.id, (Role.ORGANIZER,))
    return _csv_response(await segments_csv(services(request), event), f"{event.id}-attendance.csv")


async def attendees(request: Request) -> Response:
    event = event_of(request)
    await require(request, event.id, (Role.ORGANIZER,))
    return _csv_response(await attendees_csv(services(request), event), f"{event.id}-attendees.csv")


def routes() -> list[BaseRoute]:
    return [
        Route("/api/events/{event}/attendance", attendance),
        Route("/api/events/{event}/attendance.csv", attendance_csv),
        Route("/api/events/{event}/attendees.csv", attendees),
        Route("/api/events/{event}/checkins", scan, methods=["POST"]),
        Route("/api/events/{event}/walkins", walkin, methods=["POST"]),
    ]


async def install(svc: Services) -> None:
    """Register the presence hook and the attendance topic; start the per-second ticker."""
    presence = Presence(svc)
    svc.extras["attendance.presence"] = presence
    svc.hub.on_presence(presence)

    async def snapshot(event_id: str, claims: Claims) -> Any:
        return await figures(svc, svc.events[event_id])

    svc.hub.topic(TOPIC, READERS, snapshot)
    ticker = Ticker(svc, presence)
    svc.extras["attendance.ticker"] = ticker
    ticker.start()


async def uninstall(svc: Services) -> None:
    """Stop the ticker, then let every connection still counted here leave (bounded)."""
    ticker: Ticker | None = svc.extras.pop("attendance.ticker", None)
    if ticker is not None:
        await ticker.stop()
    presence: Presence | None = svc.extras.get("attendance.presence")
    if presence is not None:
        await presence.close()
