"""The agenda's state in Redis: read it, apply an action atomically, read the transition log.

The state is one HASH per event (``Keys.agenda``); every transition is appended to a STREAM
(``Keys.agenda_log``). :func:`apply` reads the state, lets the pure machine compute the next one,
and hands it to ``agenda_apply.lua``, which writes it only if the version is still the one the
moderator saw. So twenty concurrent "next" clicks from one version advance the session once and
nineteen get :class:`StaleVersion` with the current state. Because Redis holds everything, a
restarted node (or any other node) serves the same state.

Other capabilities call :func:`current_segment` to learn which segment is on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

import msgspec

from server.agenda.machine import Action, AgendaState, Status, transition
from server.agenda.model import Event, Segment
from server.auth import Claims
from server.services import Services
from server.store.keys import Keys

TOPIC = "agenda"  # the hub topic every client reads the agenda from

LOG_MAXLEN = 10_000
_JSON_FIELDS = ("extensions", "actual")


class StaleVersion(Exception):
    """The action was computed from an old version; ``state`` is the current one."""

    def __init__(self, expected: int, state: AgendaState) -> None:
        super().__init__(f"the agenda is at version {state.version}, not {expected}: someone acted first")
        self.expected = expected
        self.state = state
        self.message = str(self)


def now_ms() -> int:
    return int(time.time() * 1000)


def _decode(raw: dict[bytes, bytes]) -> AgendaState:
    if not raw:
        return AgendaState()
    data: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.decode()
        if name in _JSON_FIELDS:
            data[name] = msgspec.json.decode(value)
        elif name == "status":
            data[name] = value.decode()
        elif name in AgendaState.__struct_fields__:
            data[name] = int(value)
    return msgspec.convert(data, AgendaState)


def _encode(state: AgendaState) -> list[str]:
    pairs: list[str] = []
    for name in AgendaState.__struct_fields__:
        if name == "version":
            continue  # the script writes it
        value = getattr(state, name)
        pairs.append(name)
        pairs.append(msgspec.json.encode(value).decode() if name in _JSON_FIELDS else str(value))
    return pairs


async def load(svc: Services, event_id: str) -> AgendaState:
    raw = cast(dict[bytes, bytes], await svc.redis.hgetall(Keys(event_id).agenda))
    return _decode(raw)


def _segment_at(event: Event, index: int) -> str:
    return event.segments[index].id if 0 <= index < len(event.segments) else ""


async def apply(
    svc: Services, event: Event, claims: Claims, action: Action, expected: int,
    render: Callable[[AgendaState], Any],
) -> AgendaState:
    """Apply ``action`` if the agenda is still at ``expected``; return the new state.

    ``render(new_state)`` gives the push every client receives; it is published by the same
    script that stores the state, so a node dying half-way cannot leave clients uninformed.
    Raises :class:`StaleVersion`, or the machine's ``InvalidAction`` / ``IllegalTransition``.
    """
    keys = Keys(event.id)
    current = await load(svc, event.id)
    if current.version != expected:
        raise StaleVersion(expected, current)
    at = now_ms()
    new = transition(current, action, [s.id for s in event.segments], at)
    state_pairs = _encode(new)
    entry = [
        "who", claims.sub, "name", claims.name, "role", claims.role.value, "at", str(at),
        "action", action.name.value,
        "from_status", current.status.value, "from_segment", _segment_at(event, current.index),
        "to_status", new.status.value, "to_segment", _segment_at(event, new.index),
        "detail", action.segment or (str(action.minutes) if action.minutes else ""),
    ]
    new = msgspec.structs.replace(new, version=expected + 1)
    topic_keys, topic_args = svc.bus.publish_keys(event.id, TOPIC)
    on = _segment_on(event, new)
    # attendance's view of "which segment is on" moves in the same script (lib_segment.lua)
    attendance_keys = [keys.segment_now, keys.presence_users, keys.in_hall, keys.segment_marks,
                       keys.segment_viewers(on or "_none"), keys.segment_in_person(on or "_none")]
    applied, version = await svc.scripts.run(
        "agenda_apply", [keys.agenda, keys.agenda_log, *topic_keys, *attendance_keys],
        [expected, svc.key_ttl, LOG_MAXLEN, len(state_pairs) // 2, *topic_args,
         msgspec.json.encode(render(new)), on, f"{at / 1000:.3f}", svc.key_ttl, *state_pairs, *entry],
    )
    if not int(applied):
        raise StaleVersion(expected, await load(svc, event.id))
    return msgspec.structs.replace(new, version=int(version))


async def read_log(svc: Services, event_id: str, count: int = 500) -> list[dict[str, Any]]:
    """The newest ``count`` transitions, oldest first."""
    entries = cast(list[tuple[bytes, dict[bytes, bytes]]],
                   await svc.redis.xrevrange(Keys(event_id).agenda_log, count=count))
    out: list[dict[str, Any]] = []
    for entry_id, fields in reversed(entries):
        item: dict[str, Any] = {"id": entry_id.decode()}
        for key, value in fields.items():
            item[key.decode()] = value.decode()
        for name in ("at", "version"):
            if name in item:
                item[name] = int(item[name])
        out.append(item)
    return out


def _segment_on(event: Event, state: AgendaState) -> str:
    """The id of the segment that is on (live or paused) in ``state``, or ""."""
    if state.status in (Status.LIVE, Status.PAUSED) and 0 <= state.index < len(event.segments):
        return event.segments[state.index].id
    return ""


async def current_segment(svc: Services, event_id: str) -> Segment | None:
    """The segment that is on (live or paused), or None before the start and after the end."""
    event = svc.events.get(event_id)
    if event is None:
        return None
    state = await load(svc, event_id)
    if state.status in (Status.LIVE, Status.PAUSED) and 0 <= state.index < len(event.segments):
        return event.segments[state.index]
    return None
