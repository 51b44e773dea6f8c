"""HTTP routes and hub wiring of the agenda capability.

- ``GET  /api/events/{event}/agenda/state``: the live state (public, like the ``agenda`` topic);
- ``POST /api/events/{event}/agenda/actions``: ``{"action", "expected_version", "segment"?,
  "minutes"?}`` for moderators and organizers: 401 without a token, 403 for other roles, 422 for
  an unknown action, segment or bad minutes, 409 when ``expected_version`` is stale
  (``stale_version``) or the move is illegal from the current state (``illegal_transition``);
  both 409s carry the current ``state``;
- ``GET  /api/events/{event}/agenda/log``: the transition log (moderators and organizers);
- ``GET  /api/events/{event}/schedule.json`` and ``schedule.ics``: the published agenda.

The WebSocket op ``agenda.action`` does what the POST does, for the moderator console. After
every applied action the new state is pushed on the ``agenda`` topic to every client.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.agenda import formats
from server.agenda import state as store
from server.agenda.machine import Action, ActionName, IllegalTransition, InvalidAction, parse_action
from server.agenda.model import Event
from server.agenda.timing import view
from server.auth import STAFF, Claims, Role, require
from server.problems import Problem, convert, json_response, read_json
from server.realtime.hub import OpContext, OpError
from server.services import Services, event_of, services

TOPIC = store.TOPIC
PUBLIC = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=30"}


class ActionBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    action: str
    expected_version: int
    segment: str | None = None
    minutes: int | None = None


class Refused(Exception):
    """An action that was not applied: an HTTP status, a stable code, and maybe the current state."""

    def __init__(self, status: int, code: str, message: str, state: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.state = state


def _action(event: Event, body: ActionBody) -> Action:
    try:
        action = parse_action(body.action, body.segment, body.minutes)
    except InvalidAction as exc:
        raise Refused(422, exc.code, exc.message) from None
    if action.name is ActionName.GOTO and event.index_of(action.segment or "") is None:
        raise Refused(422, "unknown_segment", f"there is no segment {action.segment!r} in {event.id}")
    return action


async def perform(svc: Services, event: Event, claims: Claims, body: ActionBody) -> dict[str, Any]:
    """Validate, apply atomically, push to everyone; return the new state's view or raise :class:`Refused`."""
    action = _action(event, body)
    try:
        at = store.now_ms()
        new = await store.apply(svc, event, claims, action, body.expected_version,
                                lambda state: view(event, state, at))
    except store.StaleVersion as exc:
        raise Refused(409, "stale_version", exc.message, view(event, exc.state, store.now_ms())) from None
    except InvalidAction as exc:
        raise Refused(422, exc.code, exc.message) from None
    except IllegalTransition as exc:
        current = view(event, exc.state, store.now_ms())
        raise Refused(409, "illegal_transition", exc.message, current) from None
    return view(event, new, at)


async def get_state(request: Request) -> Response:
    event = event_of(request)
    current = await store.load(services(request), event.id)
    return json_response(view(event, current, store.now_ms()), headers={"Cache-Control": "no-store"})


async def post_action(request: Request) -> Response:
    event = event_of(request)
    claims = await require(request, event.id, STAFF)
    body = convert(await read_json(request, max_bytes=4096), ActionBody)
    try:
        data = await perform(services(request), event, claims, body)
    except Refused as exc:
        extra: dict[str, Any] = {"state": exc.state} if exc.state is not None else {}
        raise Problem(exc.status, exc.code, exc.message, **extra) from None
    return json_response(data)


async def get_log(request: Request) -> Response:
    event = event_of(request)
    await require(request, event.id, STAFF)
    try:
        limit = int(request.query_params.get("limit", "500"))
    except ValueError:
        raise Problem(422, "invalid_request", "limit must be a whole number") from None
    if not 1 <= limit <= 10_000:
        raise Problem(422, "invalid_request", "limit must be from 1 to 10000")
    entries = await store.read_log(services(request), event.id, limit)
    return json_response({"event": event.id, "entries": entries})


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


async def get_schedule_json(request: Request) -> Response:
    event = event_of(request)
    data = formats.schedule_json(event, _base(request))
    etag = f'"{data["schedule"]["version"]}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={**PUBLIC, "ETag": etag})
    return json_response(data, headers={**PUBLIC, "ETag": etag})


async def get_schedule_ics(request: Request) -> Response:
    event = event_of(request)
    body = formats.schedule_ics(event, netloc=request.url.hostname or "plenary", base_url=_base(request))
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={**PUBLIC, "Content-Disposition": f'inline; filename="{event.id}.ics"'})


def routes() -> list[BaseRoute]:
    return [
        Route("/api/events/{event}/agenda/state", get_state, methods=["GET"]),
        Route("/api/events/{event}/agenda/actions", post_action, methods=["POST"]),
        Route("/api/events/{event}/agenda/log", get_log, methods=["GET"]),
        Route("/api/events/{event}/schedule.json", get_schedule_json, methods=["GET"]),
        Route("/api/events/{event}/schedule.ics", get_schedule_ics, methods=["GET"]),
    ]


async def install(svc: Services) -> None:
    """Declare the ``agenda`` topic (every role reads it) and the ``agenda.action`` op (staff)."""

    async def snapshot(event_id: str, claims: Claims) -> dict[str, Any]:
        event = svc.events[event_id]
        return view(event, await store.load(svc, event_id), store.now_ms())

    async def action_op(ctx: OpContext, body: ActionBody) -> dict[str, Any]:
        event = svc.events.get(ctx.event)
        if event is None:
            raise OpError("unknown_event", f"there is no event {ctx.event!r}")
        try:
            return await perform(svc, event, ctx.claims, body)
        except Refused as exc:
            extra = {"state": exc.state} if exc.state is not None else {}
            raise OpError(exc.code, exc.message, status=exc.status, **extra) from None

    svc.hub.topic(TOPIC, list(Role), snapshot)
    svc.hub.op("agenda.action", STAFF, action_op, type=ActionBody)


async def uninstall(svc: Services) -> None:
    """Nothing runs in the background: the state lives in Redis."""
