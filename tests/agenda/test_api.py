"""The agenda API against a real node: who may act, coded refusals, pushes, restart survival."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from tests.support.servers import EVENT, Node, running
from tests.support.wsclient import Client, token

ACTIONS = f"/api/events/{EVENT}/agenda/actions"
STATE = f"/api/events/{EVENT}/agenda/state"


def post(node: Node, tok: str | None, **body: object):  # type: ignore[no-untyped-def]
    return node.post(ACTIONS, tok, json=body)


def test_actions_need_a_token_and_a_staff_role(node: Node) -> None:
    r = post(node, None, action="start", expected_version=0)
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    for role in ("attendee", "speaker", "checkin"):
        r = post(node, token(role), action="start", expected_version=0)
        assert r.status_code == 403 and r.json()["code"] == "forbidden", role
    assert node.get(f"/api/events/{EVENT}/agenda/log", token("attendee")).status_code == 403
    assert node.get(STATE).json()["status"] == "not_started", "refused callers changed nothing"
    assert post(node, token("organizer"), action="start", expected_version=0).status_code == 200


def test_bad_actions_get_422_and_stale_versions_409_with_the_state(node: Node) -> None:
    mod = token("moderator")
    cases = [({"action": "jump", "expected_version": 0}, "unknown_action"),
             ({"action": "goto", "segment": "nope", "expected_version": 0}, "unknown_segment"),
             ({"action": "extend", "minutes": -3, "expected_version": 0}, "invalid_minutes"),
             ({"action": "next"}, "invalid_request")]
    for body, code in cases:
        r = node.post(ACTIONS, mod, json=body)
        assert (r.status_code, r.json()["code"]) == (422, code), body
    assert post(node, mod, action="start", expected_version=0).status_code == 200
    stale = post(node, mod, action="next", expected_version=0)
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    assert stale.json()["state"]["version"] == 1 and stale.json()["state"]["index"] == 0
    illegal = post(node, mod, action="resume", expected_version=1)
    assert illegal.status_code == 409 and illegal.json()["code"] == "illegal_transition"
    assert "live at segment 1" in illegal.json()["detail"]


def test_state_carries_now_next_timing_and_server_time(node: Node) -> None:
    mod = token("moderator")
    before = node.get(STATE).json()
    assert before["next"]["id"] == "welcome-cui-shuqiang" and before["segment"] is None
    r = post(node, mod, action="start", expected_version=0).json()
    r = post(node, mod, action="extend", minutes=4, expected_version=r["version"]).json()
    state = node.get(STATE).json()
    assert state["segment"]["id"] == "welcome-cui-shuqiang" and state["segment"]["extended"] == 4
    assert state["next"]["id"] == "video-vladimir-norov"
    assert state["segment_ends_at"] - state["segment_started_at"] == (8 + 4) * 60_000
    assert abs(state["server_time"] - state["segment_started_at"]) < 60_000
    assert state["overrun_minutes"] == 4 and state["running"] == "running 4 min late"
    first = state["timeline"][0]
    assert first["actual_start"] == state["segment_started_at"]
    assert first["planned_end"] - first["planned_start"] == 8 * 60_000


async def test_websocket_clients_see_the_push_and_moderators_act_over_the_socket(node: Node) -> None:
    viewer = await Client.connect(node.ws_url, guest="Guest Viewer")
    moderator = await Client.connect(node.ws_url, token=token("moderator", "Mod"))
    try:
        snap = await viewer.wait_for(lambda c: c.snapshot("agenda"), what="agenda snapshot")
        assert snap["d"]["status"] == "not_started"
        r = post(node, token("organizer"), action="start", expected_version=0)
        assert r.status_code == 200
        push = await viewer.wait_for(lambda c: c.pushes("agenda"), what="agenda push")
        assert push[-1]["d"]["segment"]["id"] == "welcome-cui-shuqiang"
        ack = await moderator.request("agenda.action", {"action": "next", "expected_version": 1})
        assert ack["index"] == 1
        await viewer.wait_for(lambda c: any(p["d"]["index"] == 1 for p in c.pushes("agenda")),
                              what="next push")
        refused = await moderator.call("agenda.action", {"action": "next", "expected_version": 1})
        assert refused["type"] == "error" and refused["code"] == "stale_version"
        assert refused["state"]["index"] == 1
        denied = await viewer.call("agenda.action", {"action": "next", "expected_version": 2})
        assert denied["type"] == "error" and denied["code"] == "forbidden"
    finally:
        await viewer.close()
        await moderator.close()


def test_state_survives_a_restart(clean_redis: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    mod = token("moderator")
    with running(redis_url, tmp_path / "a") as first:
        v = post(first, mod, action="start", expected_version=0).json()["version"]
        v = post(first, mod, action="next", expected_version=v).json()["version"]
        v = post(first, mod, action="pause", expected_version=v).json()["version"]
        before = first.get(STATE).json()
        assert first.terminate() in (0, -15), "the node stopped on SIGTERM"  # uvicorn re-raises the signal
    with running(redis_url, tmp_path / "b") as second:
        after = second.get(STATE).json()
        keep = ("status", "version", "index", "segment", "started_at", "segment_started_at", "paused_at",
                "remaining_ms")
        assert {k: after[k] for k in keep} == {k: before[k] for k in keep}

        def actual(state: dict) -> list[tuple]:  # type: ignore[type-arg]
            return [(t["id"], t["actual_start"], t["actual_end"]) for t in state["timeline"]]

        assert actual(after) == actual(before)
        assert after["status"] == "paused" and after["index"] == 1
        resumed = post(second, mod, action="resume", expected_version=v)
        assert resumed.status_code == 200 and resumed.json()["status"] == "live"
        log = second.get(f"/api/events/{EVENT}/agenda/log", mod).json()["entries"]
        assert [e["action"] for e in log] == ["start", "next", "pause", "resume"]


@pytest.mark.parametrize("path", ["/api/events/nope/agenda/state", "/api/events/nope/schedule.json"])
def test_unknown_event_is_a_404_problem(node: Node, path: str) -> None:
    r = node.get(path)
    assert r.status_code == 404 and r.json()["code"] == "unknown_event"
