"""The segment state machine: pure, no I/O. State + action -> new state, or an error naming the state.

::

    not_started --start/goto--> live(i) --pause--> paused(i) --resume--> live(i)
                                live/paused --next/previous/goto/extend--> live(j)
                                live/paused --end--> ended   (final)

The Redis store (``server.agenda.state``) reads the state, calls :func:`transition`, and applies
the result with a compare-and-set on ``version`` in one Lua script, so a stale or concurrent
action never applies twice. Times are integer milliseconds of the server's clock.
"""

from __future__ import annotations

import enum
from typing import Any

import msgspec

MAX_EXTEND_MINUTES = 120


class Status(enum.StrEnum):
    NOT_STARTED = "not_started"
    LIVE = "live"
    PAUSED = "paused"
    ENDED = "ended"


class ActionName(enum.StrEnum):
    START = "start"
    NEXT = "next"
    PREVIOUS = "previous"
    GOTO = "goto"
    EXTEND = "extend"
    PAUSE = "pause"
    RESUME = "resume"
    END = "end"


# Which statuses each action may leave from; everything else is an illegal move.
ALLOWED: dict[ActionName, frozenset[Status]] = {
    ActionName.START: frozenset({Status.NOT_STARTED}),
    ActionName.NEXT: frozenset({Status.LIVE, Status.PAUSED}),
    ActionName.PREVIOUS: frozenset({Status.LIVE, Status.PAUSED}),
    ActionName.GOTO: frozenset({Status.NOT_STARTED, Status.LIVE, Status.PAUSED}),
    ActionName.EXTEND: frozenset({Status.LIVE, Status.PAUSED}),
    ActionName.PAUSE: frozenset({Status.LIVE}),
    ActionName.RESUME: frozenset({Status.PAUSED}),
    ActionName.END: frozenset({Status.LIVE, Status.PAUSED}),
}


class AgendaState(msgspec.Struct, frozen=True, kw_only=True):
    """What Redis holds for one event. ``actual`` maps segment id -> [first start, last end] (ms)."""

    status: Status = Status.NOT_STARTED
    index: int = -1
    version: int = 0
    started_at: int = 0
    ended_at: int = 0
    segment_started_at: int = 0
    paused_at: int = 0
    paused_ms: int = 0  # time spent paused in the current segment; the countdown stops meanwhile
    extensions: dict[str, int] = {}  # segment id -> minutes added
    actual: dict[str, list[int]] = {}


class Action(msgspec.Struct, frozen=True, kw_only=True):
    name: ActionName
    segment: str | None = None  # goto
    minutes: int | None = None  # extend


class InvalidAction(Exception):
    """The action is malformed for this agenda (unknown segment, bad minutes): HTTP 422."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class IllegalTransition(Exception):
    """The action is well formed but not allowed from the current state: HTTP 409, names the state."""

    def __init__(self, state: AgendaState, action: ActionName, why: str = "") -> None:
        where = state.status.value
        if state.index >= 0:
            where += f" at segment {state.index + 1}"
        message = f"cannot {action.value} while the session is {where}"
        super().__init__(f"{message}: {why}" if why else message)
        self.state = state
        self.action = action
        self.message = str(self)


def parse_action(name: str, segment: str | None = None, minutes: int | None = None) -> Action:
    try:
        action = ActionName(name)
    except ValueError:
        known = ", ".join(a.value for a in ActionName)
        raise InvalidAction("unknown_action", f"unknown action {name!r}; expected one of: {known}") from None
    if action is ActionName.GOTO and not segment:
        raise InvalidAction("unknown_segment", "goto needs the id of a segment in 'segment'")
    if action is ActionName.EXTEND:
        if minutes is None or not 1 <= minutes <= MAX_EXTEND_MINUTES:
            raise InvalidAction("invalid_minutes", f"extend needs 'minutes' from 1 to {MAX_EXTEND_MINUTES}")
    return Action(name=action, segment=segment, minutes=minutes)


def transition(state: AgendaState, action: Action, segment_ids: list[str], now: int) -> AgendaState:
    """Return the state after ``action`` at ``now`` (ms), with ``version`` bumped.

    Raises :class:`InvalidAction` for a segment that does not exist and :class:`IllegalTransition`
    for a move the current state does not allow.
    """
    count = len(segment_ids)
    target: int | None = None
    if action.name is ActionName.GOTO:
        if action.segment not in segment_ids:
            raise InvalidAction("unknown_segment", f"there is no segment {action.segment!r}")
        target = segment_ids.index(action.segment)
    if state.status not in ALLOWED[action.name]:
        raise IllegalTransition(state, action.name)
    bumped: dict[str, Any] = {"version": state.version + 1}
    match action.name:
        case ActionName.START:
            return _enter(state, 0, segment_ids, now, started_at=now, **bumped)
        case ActionName.NEXT:
            if state.index + 1 >= count:
                raise IllegalTransition(state, action.name, "this is the last segment; use end")
            return _enter(state, state.index + 1, segment_ids, now, **bumped)
        case ActionName.PREVIOUS:
            if state.index <= 0:
                raise IllegalTransition(state, action.name, "this is the first segment")
            return _enter(state, state.index - 1, segment_ids, now, **bumped)
        case ActionName.GOTO:
            assert target is not None
            if state.status is not Status.NOT_STARTED and target == state.index:
                raise IllegalTransition(state, action.name, f"{action.segment!r} is already on")
            started = now if state.status is Status.NOT_STARTED else state.started_at
            return _enter(state, target, segment_ids, now, started_at=started, **bumped)
        case ActionName.EXTEND:
            current = segment_ids[state.index]
            extensions = dict(state.extensions)
            extensions[current] = extensions.get(current, 0) + (action.minutes or 0)
            return msgspec.structs.replace(state, extensions=extensions, **bumped)
        case ActionName.PAUSE:
            return msgspec.structs.replace(state, status=Status.PAUSED, paused_at=now, **bumped)
        case ActionName.RESUME:
            return msgspec.structs.replace(
                state, status=Status.LIVE, paused_at=0,
                paused_ms=state.paused_ms + max(0, now - state.paused_at), **bumped,
            )
        case ActionName.END:
            actual = _leave(state, segment_ids, now)
            return msgspec.structs.replace(
                state, status=Status.ENDED, ended_at=now, paused_at=0, actual=actual, **bumped
            )
    raise AssertionError(f"unhandled action {action.name}")  # pragma: no cover


def _leave(state: AgendaState, segment_ids: list[str], now: int) -> dict[str, list[int]]:
    actual = {k: list(v) for k, v in state.actual.items()}
    if state.status in (Status.LIVE, Status.PAUSED) and 0 <= state.index < len(segment_ids):
        span = actual.setdefault(segment_ids[state.index], [state.segment_started_at, 0])
        span[1] = now
    return actual


def _enter(state: AgendaState, index: int, segment_ids: list[str], now: int, **changes: Any) -> AgendaState:
    actual = _leave(state, segment_ids, now)
    span = actual.setdefault(segment_ids[index], [now, 0])
    span[1] = 0  # running again (a previous/goto back keeps the first actual start)
    return msgspec.structs.replace(
        state, status=Status.LIVE, index=index, segment_started_at=now, paused_at=0, paused_ms=0,
        actual=actual, **changes,
    )
