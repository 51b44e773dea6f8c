"""Who is online now: a presence hook on the hub that keeps expiring entries in Redis.

A user is online while at least one of their audience connections is alive; several tabs count
once. Every change runs in one Lua script (``presence_add``, ``presence_remove``,
``presence_refresh``), so two nodes never disagree about a user's connection count.

- a tab closed cleanly leaves at once (``disconnected``), and its user with their last tab;
- a crashed node cannot say goodbye: its entries carry ``expires_at = last refresh + TTL`` and
  stop counting when that passes (online now = ``ZCOUNT users now..+inf``), so its users are gone
  within ``PLENARY_PRESENCE_TTL`` seconds while every live node refreshes its own every TTL/3.

Who counts: the audience, that is guests, attendees and speakers (a speaker follows the session
too, and is one of the people it reached). Staff roles (moderator, organizer, checkin) are at work,
not attending, and the hall projector (the guest the /screen page opens, named "Hall screen") is a
screen, not a person; none of them count.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import msgspec

from server.auth import Claims, Role
from server.realtime.connection import Connection
from server.services import Services
from server.store.keys import Keys

log = logging.getLogger("plenary.attendance")

AUDIENCE_ROLES = frozenset({Role.GUEST, Role.ATTENDEE, Role.SPEAKER})
HALL_SCREEN = "Hall screen"
REFRESH_CHUNK = 1000  # connection ids per refresh script call: bounds one script's run time
PURGE_LIMIT = 1000
# presence writes share the node's Redis pool with everything else; a connect or disconnect storm
# must queue here rather than exhaust the pool (which fails fast) and lose a leave
WRITERS = 8


def counted(claims: Claims) -> bool:
    """True when this connection is a person following the session (see the module docstring)."""
    if claims.role not in AUDIENCE_ROLES:
        return False
    return not (claims.role is Role.GUEST and claims.name == HALL_SCREEN)


def profile(claims: Claims) -> dict[str, str]:
    found = {"name": claims.name, "role": claims.role.value}
    for trait in ("country", "organisation"):
        value = (claims.traits.get(trait) or "").strip()[:80]
        if value:
            found[trait] = value
    return found


def _leave_keys(k: Keys) -> list[str]:
    return [k.presence_conns, k.presence_conn_user, k.presence_users, k.presence_user_conns,
            k.presence_since, k.attendance_totals, k.watch_time, k.online_by, k.people]


class Presence:
    """The hub's presence hook on this node; ``segment``: live segment per event, kept by the ticker."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.ttl = svc.settings.presence_ttl
        self.local: dict[str, Connection] = {}
        self.segment: dict[str, str] = {}
        self.unsettled: dict[str, Connection] = {}  # closed, but the remove failed: retried each tick
        self._gate = asyncio.Semaphore(WRITERS)

    async def connected(self, conn: Connection) -> None:
        if not counted(conn.claims):
            return
        self.local[conn.id] = conn
        await self._add(conn)
        if conn.closed or conn.id not in self.svc.hub.conns:
            # it closed while we were adding it; the hub's disconnect may have run before the add
            await self.disconnected(conn)

    async def disconnected(self, conn: Connection) -> None:
        if self.local.pop(conn.id, None) is None and self.unsettled.pop(conn.id, None) is None:
            return
        try:
            await self._run("presence_remove", _leave_keys(Keys(conn.event)), [conn.id, _now()])
        except Exception:
            self.unsettled[conn.id] = conn
            raise

    async def settle(self) -> None:
        """Retry removals that failed (Redis blip); an entry left behind would count until the TTL."""
        for conn in list(self.unsettled.values()):
            await self.disconnected(conn)

    async def refresh(self, event: str, conns: list[Connection]) -> None:
        ids = [c.id for c in conns if c.id in self.local]
        missing: list[str] = []
        for start in range(0, max(len(ids), 1), REFRESH_CHUNK):
            missing += await self.purge(event, ids[start:start + REFRESH_CHUNK])
        for conn_id in missing:
            # its entry expired (this node stalled past the TTL, or Redis lost it): count it again
            conn = self.local.get(conn_id)
            if conn is not None and not conn.closed:
                await self._add(conn)

    async def purge(self, event: str, ids: list[str] | None = None) -> list[str]:
        """Refresh ``ids`` and settle anyone's expired connections; returns ids Redis no longer had."""
        k = Keys(event)
        result = await self._run(
            "presence_refresh", _leave_keys(k), [_now(), self.ttl, PURGE_LIMIT, *(ids or [])])
        return [_text(x) for x in result[1:]]

    async def close(self, grace: float = 3.0) -> None:
        """At shutdown: whatever the hub did not report as closed leaves now, within a bound."""
        conns = list(self.local.values())
        if not conns:
            return
        try:
            await asyncio.wait_for(asyncio.gather(*(self.disconnected(c) for c in conns),
                                                  return_exceptions=True), grace)
        except TimeoutError:
            log.warning("%d presence entries left to expire by TTL", len(self.local))

    async def _add(self, conn: Connection) -> None:
        k = Keys(conn.event)
        person = profile(conn.claims)
        for _ in range(3):  # the segment can move under us at most once or twice in a row
            seg = self.segment.get(conn.event, "")
            keys = [k.presence_conns, k.presence_conn_user, k.presence_users, k.presence_user_conns,
                    k.unique_online, k.reached, k.people, k.presence_since, k.attendance_totals,
                    k.online_by, k.unique_by, k.peaks, k.segment_marks,
                    k.segment_viewers(seg) if seg else k.unique_online, k.segment_now]
            args: list[Any] = [conn.id, conn.user, _now(), self.ttl, self.svc.key_ttl,
                               msgspec.json.encode(person), seg, person.get("country", ""),
                               person.get("organisation", "")]
            result = await self._run("presence_add", keys, args)
            if int(result[0]) != -1:
                return
            self.segment[conn.event] = _text(result[1])  # the agenda moved: count in the new segment
        log.warning("presence of %s not recorded: the segment kept changing", conn.id)

    async def _run(self, script: str, keys: list[str], args: list[Any]) -> Any:
        async with self._gate:
            return await self.svc.scripts.run(script, keys, args)


def _now() -> str:
    return f"{time.time():.3f}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
