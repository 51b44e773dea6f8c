"""Once a second, on one node per second: settle expiries, follow the agenda, chart and push.

Every node runs this loop, but each piece of shared work is claimed with ``SET NX`` on a key per
time slot, so exactly one node does it: the per-second tick (purge, segment change, push) and the
per-10-s chart point. Nodes stay interchangeable; a crashed node simply stops claiming slots.
The ``attendance`` topic gets at most one push a second, and only when a count changed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Any, cast

import msgspec

from server.agenda.model import Event
from server.attendance.counts import figures
from server.attendance.presence import Presence
from server.services import Services
from server.store.connection import REDIS_DOWN
from server.store.keys import Keys

log = logging.getLogger("plenary.attendance")

TOPIC = "attendance"
SERIES_EVERY = 10  # seconds between chart points
SERIES_MAXLEN = 20000
_VOLATILE = ("at", "watch_time_s")  # change every second; a push for them alone would be noise


async def live_segment(svc: Services, event_id: str) -> str:
    """The id of the segment on now, from the agenda capability, or "" if it has none (yet)."""
    try:
        from server.agenda.state import current_segment  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return ""
    segment = await current_segment(svc, event_id)
    return str(segment.id) if segment is not None else ""


class Ticker:
    def __init__(self, svc: Services, presence: Presence) -> None:
        self.svc = svc
        self.presence = presence
        self._task: asyncio.Task[None] | None = None
        self._failures = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="attendance-ticker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(1.0 - (time.time() % 1.0) + 0.01)
            for event in list(self.svc.events.values()):
                try:
                    await self.tick(event)
                    self._failures = 0
                except REDIS_DOWN:
                    self._failures += 1
                    if self._failures == 1:
                        log.warning("attendance tick skipped: Redis unreachable")
                except Exception:
                    log.exception("attendance tick failed for %s", event.id)

    async def tick(self, event: Event) -> None:
        redis = self.svc.redis
        k = Keys(event.id)
        now = time.time()
        second = int(now)
        if self.presence.unsettled:
            await self.presence.settle()
        recorded = cast(bytes | None, await redis.hget(k.segment_now, "id"))
        self.presence.segment[event.id] = recorded.decode() if recorded else ""
        if not await redis.set(k.attendance_slot("tick", second), self.svc.node, nx=True, ex=5):
            return
        await self.presence.purge(event.id)
        await self._follow_agenda(event, now)
        point = None
        slot = second // SERIES_EVERY
        if await redis.set(k.attendance_slot("series", slot), self.svc.node, nx=True, ex=SERIES_EVERY * 3):
            point = await self._chart_point(event, now)
        data = await figures(self.svc, event, series=False)
        digest = hashlib.blake2b(
            msgspec.json.encode({k_: v for k_, v in data.items() if k_ not in _VOLATILE}), digest_size=12
        ).hexdigest()
        previous = cast(bytes | None, await redis.get(k.attendance_pushed))
        if point is None and previous is not None and previous.decode() == digest:
            return
        await redis.set(k.attendance_pushed, digest, ex=self.svc.key_ttl)
        if point is not None:
            data["point"] = point
        await self.svc.hub.publish(event.id, TOPIC, data)

    async def _follow_agenda(self, event: Event, now: float) -> None:
        try:
            current = await live_segment(self.svc, event.id)
        except Exception:
            log.exception("reading the live segment failed; attendance keeps the last one")
            return
        if current == self.presence.segment.get(event.id, ""):
            return
        k = Keys(event.id)
        await self.svc.scripts.run(
            "attendance_segment",
            [k.segment_now, k.presence_users, k.in_hall, k.segment_marks,
             k.segment_viewers(current or "_none"), k.segment_in_person(current or "_none")],
            [current, f"{now:.3f}", self.svc.key_ttl],
        )
        self.presence.segment[event.id] = current

    async def _chart_point(self, event: Event, now: float) -> dict[str, Any]:
        k = Keys(event.id)
        pipe = self.svc.redis.pipeline(transaction=False)
        pipe.zcount(k.presence_users, f"({now:.3f}", "+inf")
        pipe.scard(k.in_hall)
        online, in_hall = await pipe.execute()
        seg = self.presence.segment.get(event.id, "")
        point = {"t": round(now, 3), "online": int(online), "in_person": int(in_hall), "segment": seg or None}
        await self.svc.redis.xadd(k.timeseries, {"t": round(now, 3), "online": int(online),
                                                 "in_person": int(in_hall), "segment": seg},
                                  maxlen=SERIES_MAXLEN, approximate=True)
        await self.svc.redis.expire(k.timeseries, self.svc.key_ttl)
        return point
