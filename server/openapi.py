"""The HTTP API as an OpenAPI 3.1 document, served at ``/openapi.json``.

The operations are listed here, once; ``tests/faults/test_openapi.py`` checks that this table and
the app's routes agree (no undocumented route, no documented ghost), and fuzzes every operation
with schemathesis. Request bodies are the capabilities' own msgspec types, so the schema cannot
drift from what the handlers accept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from server.access.routes import RoleChange, TokenRequest
from server.agenda.routes import ActionBody
from server.attendance.checkin import Scan, WalkIn

SDP = "application/sdp"
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    summary: str
    roles: tuple[str, ...] = ()  # empty: public
    body: type[Any] | str | None = None  # a msgspec type (JSON) or a media type
    ok: tuple[int, ...] = (200,)
    errors: tuple[int, ...] = ()
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    produces: str = "application/json"


STAFF = ("moderator", "organizer")
EV = "/api/events/{event}"
OPERATIONS: tuple[Op, ...] = (
    Op("get", "/livez", "Liveness: 200 while the process runs"),
    Op("get", "/readyz", "Readiness: 200 when Redis answers and the node is not draining", errors=(503,)),
    Op("get", "/metrics", "Prometheus metrics", produces="text/plain"),
    Op("get", "/openapi.json", "This document"),
    Op("get", "/api/events", "Events served by this deployment"),
    Op("get", EV, "An event and its agenda", errors=(404,)),
    Op("post", f"{EV}/tokens", "Mint a link (token) for a person", ("organizer",), TokenRequest, ok=(201,),
       errors=(401, 403, 415, 422)),
    Op("get", f"{EV}/roles", "Role changes in force", ("organizer",), errors=(401, 403)),
    Op("put", f"{EV}/roles/{{user}}", "Change or revoke a person's role, live sockets included", ("organizer",),
       RoleChange, errors=(401, 403, 409, 415, 422)),
    Op("delete", f"{EV}/roles/{{user}}", "Back to the role in the person's token", ("organizer",),
       errors=(401, 403, 404, 422)),
    Op("get", f"{EV}/agenda/state", "Live agenda state: now, next, timing, server time", errors=(404,)),
    Op("post", f"{EV}/agenda/actions", "Move the session along (start, next, previous, goto, extend, pause, "
       "resume, end) from the version the moderator saw", STAFF, ActionBody, errors=(401, 403, 409, 415, 422)),
    Op("get", f"{EV}/agenda/log", "Every agenda transition: who, when, from, to", STAFF, errors=(401, 403)),
    Op("get", f"{EV}/schedule.json", "The agenda as frab/pretalx schedule JSON", errors=(404,)),
    Op("get", f"{EV}/schedule.ics", "The agenda as iCalendar", errors=(404,), produces="text/calendar"),
    Op("get", f"{EV}/chat/{{room}}/messages", "Chat export for staff", STAFF, errors=(401, 403, 404, 422),
       query={"after": {"type": "string"}}),
    Op("get", f"{EV}/modlog", "Moderation log", STAFF, errors=(401, 403)),
    Op("get", f"{EV}/attendance", "Live attendance figures", ("organizer", "moderator"), errors=(401, 403)),
    Op("get", f"{EV}/attendance.csv", "Attendance per segment (CSV)", ("organizer",),
       errors=(401, 403), produces="text/csv"),
    Op("get", f"{EV}/attendees.csv", "Attendance per person (CSV)", ("organizer",),
       errors=(401, 403), produces="text/csv"),
    Op("post", f"{EV}/checkins", "Scan a badge at a door", ("checkin", "organizer"), Scan, ok=(200, 201),
       errors=(401, 403, 409, 415, 422)),
    Op("post", f"{EV}/walkins", "Register a walk-in: badge issued and checked in", ("checkin", "organizer"),
       WalkIn, ok=(201,), errors=(401, 403, 415, 422)),
    Op("post", "/whip/{event}", "WHIP: publish to the stage (RFC 9725)", ("speaker", "moderator", "organizer"),
       SDP, ok=(201,), errors=(400, 401, 403, 409, 415, 422), produces=SDP),
    Op("options", "/whip/{event}", "WHIP discovery (Accept-Post)"),
    Op("post", "/whip/{event}/{slot}", "WHIP for a named speaker slot", ("speaker", "moderator", "organizer"),
       SDP, ok=(201,), errors=(400, 401, 403, 409, 415, 422), produces=SDP),
    Op("options", "/whip/{event}/{slot}", "WHIP discovery"),
    Op("get", "/whip/{event}/r/{id}", "WHIP session resource", errors=(404,)),
    Op("patch", "/whip/{event}/r/{id}", "Trickle ICE (204) or ICE restart (422)", ("speaker", "moderator", "organizer"),
       "application/trickle-ice-sdpfrag", ok=(204,), errors=(400, 401, 404, 412, 415, 422)),
    Op("delete", "/whip/{event}/r/{id}", "End a WHIP session", ("speaker", "moderator", "organizer"),
       errors=(401, 404)),
    Op("options", "/whip/{event}/r/{id}", "CORS preflight", errors=(404,)),
    Op("post", "/whep/{event}", "WHEP: watch the stage", ("guest", "attendee", "speaker", "moderator", "organizer"),
       SDP, ok=(201,), errors=(400, 409, 415, 422),
       produces=SDP),
    Op("get", "/whep/{event}", "WHEP discovery", errors=(404,)),
    Op("options", "/whep/{event}", "CORS preflight"),
    Op("get", "/whep/{event}/r/{id}", "WHEP session resource", errors=(404,)),
    Op("patch", "/whep/{event}/r/{id}", "Trickle ICE for a viewer", (), "application/trickle-ice-sdpfrag",
       ok=(204,), errors=(400, 404, 412, 415, 422)),
    Op("delete", "/whep/{event}/r/{id}", "Stop watching", errors=(404,)),
    Op("options", "/whep/{event}/r/{id}", "CORS preflight", errors=(404,)),
)


def _problem_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "title", "status", "code", "detail"],
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "code": {"type": "string"}, "detail": {"type": "string"},
        },
    }


def document(event_ids: list[str]) -> dict[str, Any]:
    types = list(dict.fromkeys(op.body for op in OPERATIONS if isinstance(op.body, type)))
    schemas, components = msgspec.json.schema_components(types, ref_template="#/components/schemas/{name}")
    body_schema = dict(zip(types, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        params = []
        for name in ("event", "room", "slot", "id", "user"):
            if "{" + name + "}" in op.path:
                schema: dict[str, Any] = {"type": "string"}
                if name == "event":
                    schema = {"type": "string", "enum": event_ids}
                elif name == "room":
                    schema = {"type": "string", "enum": ["main", "backstage"]}
                params.append({"name": name, "in": "path", "required": True, "schema": schema})
        for name, schema in op.query.items():
            params.append({"name": name, "in": "query", "required": False, "schema": schema})
        responses: dict[str, Any] = {}
        for status in op.ok:
            responses[str(status)] = {"description": "success", "content": {op.produces: {}}} \
                if status != 204 else {"description": "no content"}
        for status in op.errors:
            responses[str(status)] = {"description": "problem", "content": PROBLEM}
        operation: dict[str, Any] = {
            "summary": op.summary,
            "operationId": f"{op.method}_{op.path}".replace("/", "_").replace("{", "").replace("}", ""),
            "parameters": params,
            "responses": responses,
        }
        if op.roles:
            operation["security"] = [{"bearer": []}]
            operation["description"] = f"Roles: {', '.join(op.roles)}."
        if isinstance(op.body, type):
            operation["requestBody"] = {"required": True,
                                        "content": {"application/json": {"schema": body_schema[op.body]}}}
        elif isinstance(op.body, str):
            operation["requestBody"] = {"required": True, "content": {op.body: {"schema": {"type": "string"}}}}
        paths.setdefault(op.path, {})[op.method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Plenary", "version": "1", "description": "Hybrid forum sessions: agenda, stage video, "
                 "chat and attendance. The WebSocket protocol is in server/realtime/PROTOCOL.md."},
        "paths": paths,
        "components": {
            "schemas": {**components, "Problem": _problem_schema()},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
