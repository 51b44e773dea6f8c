"""Moderation as users notice it: deletions, pins, announcements, mutes, bans, and the log."""

from __future__ import annotations

import pytest

from tests.chat.util import chat_texts, connect, join, message_pushes
from tests.support.servers import EVENT, Node
from tests.support.wsclient import ProtocolError, token


async def test_delete_pin_and_announce_reach_everyone_and_late_joiners(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    alice = await join(a.ws_url, "Alice")
    bob = await join(b.ws_url, "Bob")
    mod = await join(a.ws_url, "Mia", role="moderator")
    rude = (await alice.request("chat.send", {"text": "something rude", "cid": "1"}))["id"]
    kind = (await alice.request("chat.send", {"text": "something kind", "cid": "2"}))["id"]
    await bob.wait_for(lambda c: len(message_pushes(c)) == 2, what="both messages")

    refused = await bob.call("chat.delete", {"room": "main", "id": kind})
    assert refused["code"] == "forbidden"
    await mod.request("chat.delete", {"room": "main", "id": rude})
    await mod.request("chat.pin", {"room": "main", "id": kind})
    await mod.request("chat.announce", {"room": "main", "text": "The panel starts in 5 minutes"})
    missing = await mod.call("chat.delete", {"room": "main", "id": "1-0"})
    assert missing["code"] == "not_found"
    for viewer in (alice, bob):
        await viewer.wait_for(lambda c: chat_texts(c) == ["something kind", "The panel starts in 5 minutes"],
                              what="the deletion and the announcement")
        pins = [m["d"]["message"] for m in viewer.pushes("chat:main") if m["d"].get("kind") == "pin"]
        assert pins and pins[-1]["text"] == "something kind"
    late = await join(b.ws_url, "Carol")
    snap = late.snapshot("chat:main")["d"]
    assert [m["text"] for m in snap["messages"]] == ["something kind", "The panel starts in 5 minutes"]
    assert snap["messages"][1]["kind"] == "announcement"
    assert snap["pinned"]["id"] == kind

    log = a.get(f"/api/events/{EVENT}/modlog", token=token("moderator", "Mia", sub="mia")).json()["entries"]
    assert [(e["action"], e["by"]) for e in log] == [("delete", "mia"), ("pin", "mia"), ("announce", "mia")]
    assert log[0]["target"] == "alice" and log[0]["detail"] == "something rude"
    assert a.get(f"/api/events/{EVENT}/modlog", token=token("attendee", "Al")).status_code == 403
    assert a.get(f"/api/events/{EVENT}/modlog").status_code == 401
    other_mod = await join(b.ws_url, "Otto", role="organizer")
    assert [e["action"] for e in other_mod.snapshot("mod")["d"]["log"]] == ["delete", "pin", "announce"]
    denied = await bob.call("subscribe", {"topics": ["mod"]})
    assert denied["code"] == "forbidden"


async def test_muted_user_cannot_send_while_others_can(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    alice = await join(b.ws_url, "Alice")
    bob = await join(b.ws_url, "Bob")
    mod = await join(a.ws_url, "Mia", role="moderator")
    muted = await mod.request("mod.mute", {"user": "alice", "name": "Alice", "minutes": 5})
    refused = await alice.call("chat.send", {"text": "let me speak", "cid": "1"})
    assert refused["code"] == "muted" and refused["until"] == muted["until"]
    assert 4 * 60_000 < refused["retry_after"] <= 5 * 60_000
    asked = await alice.call("qa.ask", {"text": "a question instead?", "cid": "2"})
    assert asked["code"] == "muted"
    await bob.request("chat.send", {"text": "bob is fine", "cid": "1"})
    await mod.wait_for(lambda c: chat_texts(c) == ["bob is fine"], what="Bob's message")
    again = await join(a.ws_url, "Alice")
    assert again.snapshot("chat:main")["d"]["muted_until"] == muted["until"]
    assert (await mod.call("mod.mute", {"user": "mia", "minutes": 1}))["code"] == "invalid_target"
    mutes = (await join(b.ws_url, "Otto", role="organizer")).snapshot("mod")["d"]["mutes"]
    assert mutes == [{"user": "alice", "until": muted["until"]}]


async def test_muted_user_is_told_at_once_on_its_own_node(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    alice = await join(b.ws_url, "Alice")
    bob = await join(b.ws_url, "Bob")
    mod = await join(a.ws_url, "Mia", role="moderator")
    muted = await mod.request("mod.mute", {"user": "alice", "name": "Alice", "minutes": 5})
    notice = await alice.wait_for(lambda c: [m for m in c.by_topic["chat:main"] if m["type"] == "direct"],
                                  what="the mute notice")
    assert notice[0]["d"] == {"kind": "muted", "until": muted["until"]}
    await bob.request("chat.send", {"text": "bob is fine", "cid": "1"})
    await bob.wait_for(lambda c: chat_texts(c) == ["bob is fine"], what="Bob's message")
    assert not [m for m in bob.by_topic["chat:main"] if m["type"] == "direct"]


async def test_ban_closes_the_live_socket_on_every_node_and_refuses_reconnect(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    alice_b = await join(b.ws_url, "Alice")
    alice_a = await join(a.ws_url, "Alice")
    bob = await join(b.ws_url, "Bob")
    mod = await join(a.ws_url, "Mia", role="moderator")
    await mod.request("mod.ban", {"user": "alice", "name": "Alice", "reason": "spam"})
    for sock in (alice_a, alice_b):
        code, reason = await sock.closed
        assert code == 4504 and "banned" in reason
    assert not bob.closed.done()
    for node in (a, b):
        with pytest.raises(ProtocolError):
            await connect(node.ws_url, token=token("attendee", "Alice", sub="alice"))
    bans = (await join(b.ws_url, "Otto", role="organizer")).snapshot("mod")["d"]["bans"]
    assert [(x["user"], x["reason"]) for x in bans] == [("alice", "spam")]
    await mod.request("mod.unban", {"user": "alice"})
    back = await join(b.ws_url, "Alice")
    await back.request("chat.send", {"text": "I will behave", "cid": "1"})
    assert (await mod.call("mod.unban", {"user": "alice"}))["code"] == "not_found"
