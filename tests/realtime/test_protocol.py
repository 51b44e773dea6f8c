"""The sans-I/O protocol on its own: parsing, states, positions; fuzzed with hypothesis."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.realtime.protocol import (
    MAX_ERRORS,
    Admit,
    Fail,
    Hello,
    InvalidState,
    Ping,
    Protocol,
    Reject,
    Request,
    State,
    Subscribe,
)


def joined() -> Protocol:
    p = Protocol()
    assert isinstance(p.receive('{"op":"hello","id":1,"d":{"guest":{"name":"x"}}}'), Hello)
    p.joined()
    return p


class TestHandshake:
    def test_ops_before_hello_are_rejected_with_a_code(self) -> None:
        p = Protocol()
        event = p.receive('{"op":"chat.send","id":7,"d":{}}')
        assert isinstance(event, Reject)
        assert json.loads(event.frame) == {"type": "error", "id": 7, "code": "hello_required",
                                           "message": "send hello first"}
        assert p.state is State.AWAITING_HELLO

    def test_hello_with_unknown_version_fails_with_4505(self) -> None:
        event = Protocol().receive('{"op":"hello","d":{"v":9}}')
        assert isinstance(event, Fail) and event.code == 4505

    def test_hello_with_unknown_field_fails_with_4501(self) -> None:
        event = Protocol().receive('{"op":"hello","d":{"tokn":"x"}}')
        assert isinstance(event, Fail) and event.code == 4501

    def test_second_hello_is_rejected(self) -> None:
        event = joined().receive('{"op":"hello","id":2,"d":{}}')
        assert isinstance(event, Reject) and b"already_joined" in event.frame

    def test_join_twice_names_the_state(self) -> None:
        p = joined()
        with pytest.raises(InvalidState, match="in state open"):
            p.joined()


class TestFrames:
    def test_request_keeps_its_raw_payload(self) -> None:
        event = joined().receive(b'{"op":"qa.ask","id":"a1","d":{"text":"Why?"}}')
        assert isinstance(event, Request) and event.op == "qa.ask" and event.id == "a1"
        assert json.loads(bytes(event.data)) == {"text": "Why?"}

    def test_ping_and_subscribe(self) -> None:
        p = joined()
        assert isinstance(p.receive('{"op":"ping","id":3}'), Ping)
        sub = p.receive('{"op":"subscribe","id":4,"d":{"topics":["qa"],"resume":{"qa":{"seq":3,"epoch":"e"}}}}')
        assert isinstance(sub, Subscribe) and sub.topics == ["qa"] and sub.resume["qa"].seq == 3

    @pytest.mark.parametrize(("frame", "code"), [
        ("not json", "malformed_json"),
        ("[1,2]", "invalid_envelope"),
        ('{"op":5}', "invalid_envelope"),
        ('{"op":"x","extra":1}', "invalid_envelope"),
        ('{"id":1}', "invalid_envelope"),
    ])
    def test_malformed_frames_get_coded_errors(self, frame: str, code: str) -> None:
        event = joined().receive(frame)
        assert isinstance(event, Reject) and json.loads(event.frame)["code"] == code

    def test_oversized_frame_fails_with_1009(self) -> None:
        event = joined().receive("x" * (64 * 1024 + 1))
        assert isinstance(event, Fail) and event.code == 1009

    def test_too_many_errors_close_with_1008(self) -> None:
        p = joined()
        events = [p.receive("garbage") for _ in range(MAX_ERRORS + 1)]
        assert all(isinstance(e, Reject) for e in events[:-1])
        assert isinstance(events[-1], Fail) and events[-1].code == 1008
        with pytest.raises(InvalidState):
            p.receive("{}")


class TestPositions:
    def test_in_order_duplicate_and_gap(self) -> None:
        p = joined()
        p.at("chat:main", 5, "e1")
        assert p.admit("chat:main", 6, "e1") is Admit.DELIVER
        assert p.admit("chat:main", 6, "e1") is Admit.DUPLICATE
        assert p.admit("chat:main", 4, "e1") is Admit.DUPLICATE
        assert p.admit("chat:main", 9, "e1") is Admit.GAP
        assert p.admit("chat:main", 7, "e2") is Admit.GAP, "a new epoch is never trusted"

    def test_first_push_of_a_new_topic_is_delivered(self) -> None:
        p = joined()
        p.at("qa", 0, "")
        assert p.admit("qa", 1, "fresh") is Admit.DELIVER
        assert p.admit("qa", 2, "fresh") is Admit.DELIVER


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300),
    json_values.map(json.dumps),
    st.fixed_dictionaries({"op": st.sampled_from(["hello", "ping", "subscribe", "chat.send", "x"]) | st.text(),
                           "id": json_values, "d": json_values}).map(json.dumps),
))
def test_any_frame_yields_an_event_never_an_exception(frame: str | bytes) -> None:
    for p in (Protocol(), joined()):
        event = p.receive(frame)
        assert isinstance(event, Hello | Ping | Subscribe | Request | Reject | Fail)
        if isinstance(event, Reject):
            assert json.loads(event.frame)["type"] == "error"
