"""HTTP routes and hub wiring of the chat capability: topics, ops, exports, the reaction task."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.auth import AUDIENCE, BACKSTAGE, STAFF, Claims, require
from server.chat import history, messages, moderation, qa, reactions
from server.chat.model import (
    ROOMS,
    Announce,
    Approve,
    Ask,
    Ban,
    DeleteChat,
    Highlight,
    MarkAnswered,
    Mute,
    PinChat,
    QaSettings,
    React,
    SendChat,
    SlowMode,
    Unban,
    Upvote,
)
from server.problems import Problem, json_response
from server.realtime.hub import OpContext
from server.services import Services, event_of, services

_STREAM_ID = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")
EXPORT_LIMIT = 1000


async def export_messages(request: Request) -> Response:
    """GET /api/events/{event}/chat/{room}/messages?after=<id>&limit=n (moderators and organizers)."""
    event = event_of(request)
    await require(request, event.id, STAFF)
    room = request.path_params["room"]
    if room not in ROOMS:
        raise Problem(404, "unknown_room", f"there is no room {room!r}; rooms are {', '.join(ROOMS)}")
    after = request.query_params.get("after") or None
    if after is not None and not _STREAM_ID.match(after):
        raise Problem(422, "invalid_request", "after must be a message id like 1700000000000-0")
    try:
        limit = min(EXPORT_LIMIT, max(1, int(request.query_params.get("limit", EXPORT_LIMIT))))
    except ValueError:
        raise Problem(422, "invalid_request", "limit must be a whole number") from None
    items = await history.export(services(request), event.id, room, after, limit)
    return json_response({"room": room, "messages": items, "next": items[-1]["id"] if items else after})


async def modlog(request: Request) -> Response:
    event = event_of(request)
    await require(request, event.id, STAFF)
    return json_response({"entries": await moderation.read_log(services(request), event.id,
                                                               count=moderation.LOG_SIZE)})


def routes() -> list[BaseRoute]:
    return [
        Route("/api/events/{event}/chat/{room}/messages", export_messages),
        Route("/api/events/{event}/modlog", modlog),
    ]


Handler = Callable[[Services, OpContext, Any], Awaitable[Any]]


def _bind(svc: Services, handler: Handler) -> Callable[[OpContext, Any], Awaitable[Any]]:
    async def run(ctx: OpContext, d: Any) -> Any:
        return await handler(svc, ctx, d)

    return run


def _room_snapshot(svc: Services, room: str) -> Callable[[str, Claims], Awaitable[Any]]:
    async def snap(event: str, claims: Claims) -> Any:
        return await messages.snapshot(svc, event, room, claims)

    return snap


async def install(svc: Services) -> None:
    """Declare topics and ops on the hub, refuse banned users at hello, start the reaction task."""
    hub = svc.hub
    hub.topic("chat:main", AUDIENCE, _room_snapshot(svc, "main"))
    hub.topic("chat:backstage", BACKSTAGE, _room_snapshot(svc, "backstage"))

    async def qa_snapshot(event: str, claims: Claims) -> Any:
        return await qa.snapshot(svc, event, claims)

    async def reactions_snapshot(event: str, claims: Claims) -> Any:
        return await reactions.snapshot(svc, event, claims)

    async def mod_snapshot(event: str, claims: Claims) -> Any:
        pending = [q for q in await qa.questions(svc, event, claims) if q["status"] == "pending"]
        return {"log": await moderation.read_log(svc, event), "pending": pending,
                "review": await qa.review_on(svc, event), **await moderation.state(svc, event)}

    hub.topic("qa", AUDIENCE, qa_snapshot)
    hub.topic("reactions", AUDIENCE, reactions_snapshot)
    hub.topic("mod", STAFF, mod_snapshot)

    ops: list[tuple[str, frozenset[Any], Handler, type[Any]]] = [
        ("chat.send", AUDIENCE, messages.send, SendChat),
        ("chat.delete", STAFF, moderation.delete, DeleteChat),
        ("chat.pin", STAFF, moderation.pin, PinChat),
        ("chat.announce", STAFF, moderation.announce, Announce),
        ("chat.slowmode", STAFF, moderation.slow_mode, SlowMode),
        ("mod.mute", STAFF, moderation.mute, Mute),
        ("mod.ban", STAFF, moderation.ban, Ban),
        ("mod.unban", STAFF, moderation.unban, Unban),
        ("qa.ask", AUDIENCE, qa.ask, Ask),
        ("qa.upvote", AUDIENCE, qa.upvote, Upvote),
        ("qa.approve", STAFF, qa.approve, Approve),
        ("qa.answer", STAFF, qa.answer, MarkAnswered),
        ("qa.highlight", STAFF, qa.highlight, Highlight),
        ("qa.settings", STAFF, qa.settings, QaSettings),
        ("react", AUDIENCE, reactions.react, React),
    ]
    for name, roles, handler, payload in ops:
        hub.op(name, roles, _bind(svc, handler), type=payload)
    hub.on_join(moderation.join_check(svc))
    aggregator = reactions.Aggregator(svc)
    aggregator.start()
    svc.extras["chat.reactions"] = aggregator


async def uninstall(svc: Services) -> None:
    """Stop the reaction aggregator."""
    aggregator = svc.extras.pop("chat.reactions", None)
    if aggregator is not None:
        await aggregator.stop()
