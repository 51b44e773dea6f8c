"""Chat across nodes: delivery, cleaning, idempotent retries, rate limit, slow mode, resume."""

from __future__ import annotations

import asyncio

from tests.chat.util import chat_texts, connect, join, message_pushes
from tests.support.servers import EVENT, Node
from tests.support.wsclient import token


async def test_message_sent_on_one_node_arrives_on_the_other(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    alice = await join(a.ws_url, "Alice")
    bob = await join(b.ws_url, "Bob")
    ack = await alice.request("chat.send", {"text": "  hello\x00 from\u202e A\x07  ", "cid": "m1"})
    got = await bob.wait_for(lambda c: message_pushes(c), what="Alice's message on node B")
    assert got[0]["text"] == "hello from A"  # control and bidi characters stripped, spaces trimmed
    assert got[0]["id"] == ack["id"] and got[0]["name"] == "Alice" and got[0]["user"] == "alice"
    await bob.request("chat.send", {"text": "hi Alice", "cid": "m2"})
    await alice.wait_for(lambda c: "hi Alice" in chat_texts(c), what="Bob's reply on node A")

    empty = await alice.call("chat.send", {"text": "\x01\x02   ", "cid": "m3"})
    assert empty["type"] == "error" and empty["code"] == "invalid_text"
    long = await alice.call("chat.send", {"text": "x" * 501, "cid": "m4"})
    assert long["code"] == "invalid_text" and long["max_chars"] == 500
    backstage = await alice.call("chat.send", {"room": "backstage", "text": "let me in", "cid": "m5"})
    assert backstage["code"] == "forbidden"
    unknown = await alice.call("chat.send", {"text": "hi", "cid": "m6", "colour": "red"})
    assert unknown["code"] == "invalid_request"
    late = await join(a.ws_url, "Carol")
    assert chat_texts(late) == ["hello from A", "hi Alice"]


async def test_retried_client_message_id_is_stored_once(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    alice_a = await join(a.ws_url, "Alice")
    alice_b = await join(b.ws_url, "Alice")
    bob = await join(b.ws_url, "Bob")
    first = await alice_a.request("chat.send", {"text": "only once", "cid": "retry-1"})
    retries = await asyncio.gather(*(c.request("chat.send", {"text": "only once", "cid": "retry-1"})
                                     for c in (alice_a, alice_b, alice_b)))
    assert first["duplicate"] is False
    assert {r["id"] for r in retries} == {first["id"]} and all(r["duplicate"] for r in retries)
    # the same cid from another user is another message
    await bob.request("chat.send", {"text": "marker", "cid": "retry-1"})
    await bob.wait_for(lambda c: "marker" in chat_texts(c), what="marker")
    assert [m["text"] for m in message_pushes(bob)] == ["only once", "marker"]
    mod = token("moderator", "Mia", sub="mia")
    export = a.get(f"/api/events/{EVENT}/chat/main/messages", token=mod).json()["messages"]
    assert [m["text"] for m in export] == ["only once", "marker"]
    after = a.get(f"/api/events/{EVENT}/chat/main/messages?after={first['id']}", token=mod).json()
    assert [m["text"] for m in after["messages"]] == ["marker"]
    assert a.get(f"/api/events/{EVENT}/chat/main/messages", token=token("attendee", "Al")).status_code == 403
    bad = a.get(f"/api/events/{EVENT}/chat/main/messages?after=<script>", token=mod)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"
    assert a.get(f"/api/events/{EVENT}/chat/lobby/messages", token=mod).json()["code"] == "unknown_room"


async def test_rate_limit_and_slow_mode_hold_across_nodes(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    alice_a = await join(a.ws_url, "Alice")
    alice_b = await join(b.ws_url, "Alice")
    for i in range(5):  # the burst (PLENARY_CHAT_BURST=5) on node A
        await alice_a.request("chat.send", {"text": f"burst {i}", "cid": f"b{i}"})
    refused = await alice_b.call("chat.send", {"text": "one more", "cid": "b5"})
    assert refused["type"] == "error" and refused["code"] == "rate_limited"
    assert 0 < refused["retry_after"] <= 1000  # one token a second
    bob = await join(b.ws_url, "Bob")
    await bob.request("chat.send", {"text": "others are not limited", "cid": "x"})

    mod = await join(a.ws_url, "Mia", role="moderator")
    await mod.request("chat.slowmode", {"room": "main", "seconds": 30})
    await bob.wait_for(lambda c: any(m["d"].get("kind") == "slow_mode" for m in c.pushes("chat:main")),
                       what="slow mode push")
    carol_a = await join(a.ws_url, "Carol")
    carol_b = await join(b.ws_url, "Carol")
    await carol_a.request("chat.send", {"text": "first in slow mode", "cid": "s1"})
    slowed = await carol_b.call("chat.send", {"text": "second too soon", "cid": "s2"})
    assert slowed["code"] == "slow_mode" and 25_000 < slowed["retry_after"] <= 30_000
    await mod.request("chat.send", {"text": "staff are not slowed", "cid": "m1"})
    await mod.request("chat.send", {"text": "still not", "cid": "m2"})
    late = await join(b.ws_url, "Dan")
    assert late.snapshot("chat:main")["d"]["slow_mode"] == 30


async def test_resume_after_reconnect_gets_exactly_the_missed_messages(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    alice = await join(a.ws_url, "Alice")
    bob = await join(b.ws_url, "Bob")
    for i in range(2):
        await bob.request("chat.send", {"text": f"before {i}", "cid": f"p{i}"})
    await alice.wait_for(lambda c: len(message_pushes(c)) == 2, what="the first two messages")
    positions = dict(alice.positions)
    await alice.close()
    missed = []
    for i in range(3):
        missed.append((await bob.request("chat.send", {"text": f"missed {i}", "cid": f"q{i}"}))["id"])
    again = await connect(b.ws_url, token=token("attendee", "Alice", sub="alice"), resume=positions)
    await again.wait_for(lambda c: len(message_pushes(c)) >= 3, what="the missed messages")
    await again.request("chat.send", {"text": "after", "cid": "z"})
    await again.wait_for(lambda c: len(message_pushes(c)) >= 4, what="the live message after resume")
    assert [m["id"] for m in message_pushes(again)][:3] == missed
    assert [m["text"] for m in message_pushes(again)] == ["missed 0", "missed 1", "missed 2", "after"]
    assert again.snapshot("chat:main") is None  # resumed, not reloaded


async def test_guest_chats_under_the_name_it_joined_with(nodes: tuple[Node, Node]) -> None:
    guest = await connect(nodes[0].ws_url, guest="Wanderer")
    await guest.wait_for(lambda c: c.snapshot("chat:main"), what="snapshot")
    ack = await guest.request("chat.send", {"text": "hello as a guest", "cid": "g1"})
    pushed = await guest.wait_for(lambda c: message_pushes(c), what="own message")
    assert pushed[0]["id"] == ack["id"] and pushed[0]["name"] == "Wanderer" and pushed[0]["role"] == "guest"
