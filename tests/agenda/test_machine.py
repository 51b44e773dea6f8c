"""The segment state machine: every action, every illegal move, and the one-click-once promise."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from server.agenda.machine import (
    ActionName,
    AgendaState,
    IllegalTransition,
    InvalidAction,
    Status,
    parse_action,
    transition,
)
from tests.support.servers import EVENT, Node
from tests.support.wsclient import token

IDS = ["a", "b", "c"]
T0 = 1_700_000_000_000
MIN = 60_000


def act(state: AgendaState, name: str, at: int, **kw: object) -> AgendaState:
    return transition(state, parse_action(name, **kw), IDS, at)  # type: ignore[arg-type]


def test_start_goes_live_on_the_first_segment() -> None:
    s = act(AgendaState(), "start", T0)
    assert (s.status, s.index, s.version, s.started_at, s.segment_started_at) == (Status.LIVE, 0, 1, T0, T0)
    assert s.actual == {"a": [T0, 0]}


def test_next_and_previous_move_one_segment_and_record_actual_times() -> None:
    s = act(act(AgendaState(), "start", T0), "next", T0 + 5 * MIN)
    assert (s.index, s.version) == (1, 2)
    assert s.actual["a"] == [T0, T0 + 5 * MIN] and s.actual["b"] == [T0 + 5 * MIN, 0]
    back = act(s, "previous", T0 + 6 * MIN)
    assert back.index == 0 and back.actual["a"] == [T0, 0], "going back keeps the first actual start"
    assert back.actual["b"][1] == T0 + 6 * MIN


def test_goto_jumps_to_a_segment_and_can_start_the_session() -> None:
    s = act(AgendaState(), "goto", T0, segment="c")
    assert (s.status, s.index, s.started_at) == (Status.LIVE, 2, T0)
    s = act(s, "goto", T0 + MIN, segment="a")
    assert s.index == 0 and s.started_at == T0


def test_extend_adds_minutes_to_the_current_segment() -> None:
    s = act(act(AgendaState(), "start", T0), "extend", T0, minutes=5)
    s = act(s, "extend", T0, minutes=3)
    assert s.extensions == {"a": 8} and s.index == 0 and s.version == 3


def test_pause_freezes_and_resume_accounts_the_pause() -> None:
    s = act(act(AgendaState(), "start", T0), "pause", T0 + MIN)
    assert (s.status, s.paused_at) == (Status.PAUSED, T0 + MIN)
    s = act(s, "resume", T0 + 4 * MIN)
    assert (s.status, s.paused_at, s.paused_ms) == (Status.LIVE, 0, 3 * MIN)


def test_next_from_paused_goes_live_on_the_next_segment() -> None:
    s = act(act(act(AgendaState(), "start", T0), "pause", T0), "next", T0 + MIN)
    assert (s.status, s.index, s.paused_ms) == (Status.LIVE, 1, 0)


def test_end_closes_the_session_and_the_last_segment() -> None:
    s = act(act(AgendaState(), "start", T0), "end", T0 + 2 * MIN)
    assert (s.status, s.ended_at) == (Status.ENDED, T0 + 2 * MIN)
    assert s.actual["a"] == [T0, T0 + 2 * MIN]


@pytest.mark.parametrize(
    ("setup", "action", "kw", "named"),
    [
        ([], "next", {}, "not_started"),
        ([], "pause", {}, "not_started"),
        ([], "end", {}, "not_started"),
        ([], "resume", {}, "not_started"),
        (["start"], "start", {}, "live at segment 1"),
        (["start"], "resume", {}, "live at segment 1"),
        (["start"], "previous", {}, "first segment"),
        (["start", "pause"], "pause", {}, "paused at segment 1"),
        (["start", "next", "next"], "next", {}, "last segment"),
        (["start", "end"], "goto", {"segment": "b"}, "ended"),
        (["start", "end"], "extend", {"minutes": 5}, "ended"),
        (["start"], "goto", {"segment": "a"}, "already on"),
    ],
)
def test_illegal_moves_name_the_current_state(setup: list[str], action: str, kw: dict[str, object],
                                              named: str) -> None:
    s = AgendaState()
    for name in setup:
        s = act(s, name, T0)
    with pytest.raises(IllegalTransition) as caught:
        act(s, action, T0 + MIN, **kw)
    assert named in str(caught.value) and f"cannot {action}" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "kw", "code"),
    [("jump", {}, "unknown_action"), ("goto", {}, "unknown_segment"),
     ("extend", {"minutes": 0}, "invalid_minutes"), ("extend", {"minutes": 500}, "invalid_minutes")],
)
def test_malformed_actions_are_refused_with_a_code(name: str, kw: dict[str, object], code: str) -> None:
    with pytest.raises(InvalidAction) as caught:
        parse_action(name, **kw)  # type: ignore[arg-type]
    assert caught.value.code == code


def test_goto_an_unknown_segment_is_refused() -> None:
    with pytest.raises(InvalidAction) as caught:
        act(AgendaState(), "goto", T0, segment="zzz")
    assert caught.value.code == "unknown_segment"


def test_every_action_is_covered() -> None:
    expected = {"start", "next", "previous", "goto", "extend", "pause", "resume", "end"}
    assert {a.value for a in ActionName} == expected


def test_twenty_concurrent_next_advance_once(node: Node) -> None:
    moderator = token("moderator", "Tim Luan")
    path = f"/api/events/{EVENT}/agenda/actions"
    started = node.post(path, moderator, json={"action": "start", "expected_version": 0})
    assert started.status_code == 200, started.text
    version = started.json()["version"]

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=20)
        async with httpx.AsyncClient(base_url=node.url, timeout=20, limits=limits) as http:
            headers = {"Authorization": f"Bearer {moderator}"}
            return await asyncio.gather(*(
                http.post(path, headers=headers, json={"action": "next", "expected_version": version})
                for _ in range(20)
            ))

    replies = asyncio.run(burst())
    codes = sorted(r.status_code for r in replies)
    assert codes == [200] + [409] * 19
    for r in replies:
        if r.status_code == 409:
            assert r.json()["code"] == "stale_version" and r.json()["state"]["index"] == 1
    state = node.get(f"/api/events/{EVENT}/agenda/state").json()
    assert (state["index"], state["version"]) == (1, version + 1)
    log = node.get(f"/api/events/{EVENT}/agenda/log", moderator).json()["entries"]
    assert [e["action"] for e in log] == ["start", "next"]
    assert log[1]["from_segment"] == "welcome-cui-shuqiang" and log[1]["to_segment"] == "video-vladimir-norov"
