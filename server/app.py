"""Builds the Starlette application: routes and lifespan wiring, nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from server import access, agenda, attendance, chat, media
from server.agenda.files import load_events
from server.config import Settings, ensure_secret, load_settings
from server.logs import AccessLog, SecurityHeaders
from server.problems import Problem, json_response, problem_handler
from server.realtime.bus import Bus
from server.realtime.endpoint import ws_endpoint
from server.realtime.gate import ConnectGate
from server.realtime.hub import Hub
from server.services import Services, services
from server.store import keys
from server.store.connection import REDIS_DOWN, open_redis
from server.store.scripts import Scripts

log = logging.getLogger("plenary.app")

STATIC = Path(__file__).resolve().parent.parent / "static"
PAGES = {"/": "index.html", "/moderator": "moderator.html", "/organizer": "organizer.html",
         "/speaker": "speaker.html", "/checkin": "checkin.html", "/screen": "screen.html"}
CAPABILITIES = (access, agenda, chat, attendance, media)


async def livez(request: Request) -> Response:
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    svc = services(request)
    if request.app.state.draining or svc.hub.draining:
        return json_response({"status": "draining"}, status=503)
    try:
        await asyncio.wait_for(svc.redis.ping(), timeout=1.0)
    except (*REDIS_DOWN, TimeoutError):
        return json_response({"status": "redis_unavailable"}, status=503)
    return json_response({"status": "ready", "node": svc.node, "connections": len(svc.hub.conns)})


async def openapi_json(request: Request) -> Response:
    from server.openapi import document

    return json_response(document(list(services(request).events)))


async def metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def list_events(request: Request) -> Response:
    return json_response([e.summary() for e in services(request).events.values()])


async def get_event(request: Request) -> Response:
    from server.services import event_of

    return json_response(event_of(request).to_json())


def page(filename: str) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        return FileResponse(STATIC / filename, headers={"Cache-Control": "no-cache"})

    return serve


async def not_found(request: Request, exc: Exception) -> Response:
    return Problem(404, "not_found", f"nothing at {request.url.path}").response()


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    return Problem(405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}").response()


async def server_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, REDIS_DOWN):
        return Problem(503, "unavailable", "storage is unreachable; nothing was saved, retry",
                       headers={"Retry-After": "1"}).response()
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return Problem(500, "internal", "the server failed on this request").response()


def create_app(settings: Settings | None = None) -> Starlette:
    settings = ensure_secret(settings or load_settings())
    keys.configure(settings.key_prefix)
    events = load_events(Path(settings.agenda_dir))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_redis(settings) as (redis, url):
            scripts = Scripts(redis)
            bus = Bus(redis, scripts, history=settings.history, ttl=settings.key_ttl_days * 86400)
            hub = Hub(bus, outbox_limit=settings.outbox_limit, flush_ms=settings.flush_ms,
                      presence_interval=max(1.0, settings.presence_ttl / 3), node=settings.node,
                      ops_rate=settings.ops_rate)
            svc = Services(settings=settings, redis=redis, scripts=scripts, bus=bus, hub=hub,
                           events=events, node=settings.node)
            app.state.services = svc
            app.state.settings = settings
            app.state.events = events
            app.state.hub = hub
            for capability in CAPABILITIES:
                await capability.install(svc)
            hub.start(list(events))
            log.info("node %s serving %d event(s) on %s", settings.node, len(events), url.split("@")[-1])
            try:
                yield
            finally:
                app.state.draining = True
                await hub.stop(settings.shutdown_grace)
                for capability in reversed(CAPABILITIES):
                    # each step is bounded: a shutdown that waits forever is a node nobody can deploy
                    try:
                        await asyncio.wait_for(capability.uninstall(svc), timeout=5)
                    except Exception:
                        log.exception("stopping %s failed or took over 5 s; going on", capability.__name__)

    routes: list[BaseRoute] = [
        Route("/livez", livez),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/openapi.json", openapi_json),
        Route("/api/events", list_events),
        Route("/api/events/{event}", get_event),
        WebSocketRoute("/ws/{event}", ws_endpoint),
    ]
    for capability in CAPABILITIES:
        routes.extend(capability.routes())
    routes.extend(Route(path, page(name)) for path, name in PAGES.items())
    routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(ConnectGate, rate=settings.connect_rate), Middleware(AccessLog),
                    Middleware(SecurityHeaders)],
        exception_handlers={Problem: problem_handler, 404: not_found, 405: method_not_allowed,
                            Exception: server_error},
    )
    app.state.settings = settings
    app.state.events = events
    app.state.draining = False
    return app
