"""What every capability is handed at start-up: settings, Redis, the hub and the loaded events.

It lives in its own module so capabilities depend on it and never on ``server.app``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from starlette.requests import HTTPConnection

from server.config import Settings
from server.problems import Problem
from server.realtime.bus import Bus
from server.realtime.hub import Hub
from server.store.scripts import Scripts

if TYPE_CHECKING:
    from server.agenda.model import Event


@dataclass
class Services:
    settings: Settings
    redis: Redis
    scripts: Scripts
    bus: Bus
    hub: Hub
    events: dict[str, Event]
    node: str
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def key_ttl(self) -> int:
        return self.settings.key_ttl_days * 86400


def services(conn: HTTPConnection) -> Services:
    svc: Services = conn.app.state.services
    return svc


def event_of(conn: HTTPConnection) -> Event:
    """The event named in the path, or a 404 problem."""
    event_id = conn.path_params["event"]
    event = services(conn).events.get(event_id)
    if event is None:
        raise Problem(404, "unknown_event", f"there is no event {event_id!r}")
    return event
