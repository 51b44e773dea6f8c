"""Q&A: order by votes, upvote toggle, review queue, anonymity, highlight; and the counts report."""

from __future__ import annotations

import json

import redis.asyncio as aredis

from server.chat import counts
from server.store import keys
from tests.chat.util import join
from tests.support.servers import EVENT, Node


def listed(client, topic: str = "qa") -> list[dict]:  # type: ignore[no-untyped-def]
    return client.snapshot(topic)["d"]["questions"]


def question_pushes(client) -> list[dict]:  # type: ignore[no-untyped-def]
    return [m["d"]["q"] for m in client.pushes("qa") if m["d"].get("kind") == "question"]


async def test_questions_order_by_votes_and_an_upvote_toggles(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    alice, bob = await join(a.ws_url, "Alice"), await join(b.ws_url, "Bob")
    carol, dan = await join(a.ws_url, "Carol"), await join(b.ws_url, "Dan")
    q1 = (await alice.request("qa.ask", {"text": "What about funding?", "cid": "1"}))["id"]
    q2 = (await bob.request("qa.ask", {"text": "How do startups apply?", "cid": "1"}))["id"]
    assert (await carol.request("qa.upvote", {"id": q2})) == {"id": q2, "voted": True, "votes": 1}
    assert (await dan.request("qa.upvote", {"id": q2}))["votes"] == 2
    assert (await carol.request("qa.upvote", {"id": q1}))["votes"] == 1
    assert (await alice.call("qa.upvote", {"id": "q999"}))["code"] == "not_found"
    await alice.wait_for(lambda c: len([m for m in c.pushes("qa") if m["d"]["kind"] == "votes"]) == 3,
                         what="three vote pushes")
    late = await join(a.ws_url, "Eve")
    assert [(q["id"], q["votes"]) for q in listed(late)] == [(q2, 2), (q1, 1)]

    took_back = await carol.request("qa.upvote", {"id": q2})  # the second upvote takes the vote back
    assert took_back == {"id": q2, "voted": False, "votes": 1}
    await dan.request("qa.upvote", {"id": q2})
    latest = await join(b.ws_url, "Frank")
    assert [(q["id"], q["votes"]) for q in listed(latest)] == [(q1, 1), (q2, 0)]
    carol_again = await join(b.ws_url, "Carol")
    assert carol_again.snapshot("qa")["d"]["voted"] == [q1]
    votes = [m["d"] for m in alice.pushes("qa") if m["d"]["kind"] == "votes"]
    await alice.wait_for(lambda c: len([m for m in c.pushes("qa") if m["d"]["kind"] == "votes"]) == 5,
                         what="five vote pushes")
    votes = [m["d"] for m in alice.pushes("qa") if m["d"]["kind"] == "votes" and m["d"]["id"] == q2]
    assert [v["votes"] for v in sorted(votes, key=lambda v: v["v"])] == [1, 2, 1, 0]


async def test_review_queue_shows_pending_only_to_author_and_staff(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    mod = await join(a.ws_url, "Mia", role="moderator")
    await mod.request("qa.settings", {"review": True})
    alice, bob = await join(b.ws_url, "Alice"), await join(a.ws_url, "Bob")
    asked = await alice.request("qa.ask", {"text": "Is this moderated?", "cid": "1"})
    assert asked["status"] == "pending"
    queued = await mod.wait_for(lambda c: [m["d"]["q"] for m in c.pushes("mod") if m["d"].get("kind") == "question"],
                                what="the question in the review queue")
    assert queued[0]["id"] == asked["id"] and queued[0]["author"] == "alice"
    assert [q["status"] for q in listed(await join(b.ws_url, "Alice"))] == ["pending"]
    assert listed(await join(b.ws_url, "Carol")) == []
    assert (await bob.call("qa.upvote", {"id": asked["id"]}))["code"] == "not_open"
    assert (await bob.call("qa.approve", {"id": asked["id"]}))["code"] == "forbidden"
    staff_view = await join(b.ws_url, "Otto", role="organizer")
    assert [q["id"] for q in staff_view.snapshot("mod")["d"]["pending"]] == [asked["id"]]

    await mod.request("qa.approve", {"id": asked["id"]})
    shown = await bob.wait_for(lambda c: question_pushes(c), what="the approved question")
    assert shown[0]["id"] == asked["id"] and shown[0]["status"] == "open"
    assert [q["id"] for q in listed(await join(a.ws_url, "Carol"))] == [asked["id"]]
    assert not [q for q in question_pushes(bob) if q["status"] == "pending"]
    assert (await mod.call("qa.approve", {"id": asked["id"]}))["code"] == "not_pending"


async def test_author_sees_own_pending_question_live(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    mod = await join(a.ws_url, "Mia", role="moderator")
    await mod.request("qa.settings", {"review": True})
    alice, bob = await join(b.ws_url, "Alice"), await join(b.ws_url, "Bob")
    asked = await alice.request("qa.ask", {"text": "Pending for me?", "cid": "1"})
    direct = await alice.wait_for(lambda c: [m for m in c.by_topic["qa"] if m["type"] == "direct"],
                                  what="own pending question")
    assert direct[0]["d"]["q"]["id"] == asked["id"] and direct[0]["d"]["q"]["status"] == "pending"
    await mod.request("qa.approve", {"id": asked["id"]})
    await bob.wait_for(lambda c: question_pushes(c), what="approved question")
    assert not [m for m in bob.by_topic["qa"] if m["type"] == "direct"]


async def test_anonymous_question_hides_author_from_attendees_not_moderators(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    alice, bob = await join(a.ws_url, "Alice Secret"), await join(b.ws_url, "Bob")
    mod = await join(b.ws_url, "Mia", role="moderator")
    asked = await alice.request("qa.ask", {"text": "Can I ask this safely?", "cid": "1", "anonymous": True})
    pushed = await bob.wait_for(lambda c: question_pushes(c), what="the anonymous question")
    assert pushed[0]["author"] is None and pushed[0]["name"] == "Anonymous"
    assert "alice" not in json.dumps(bob.by_topic["qa"]).lower()
    assert "alice" not in json.dumps(listed(await join(a.ws_url, "Carol"))).lower()
    staff = listed(await join(a.ws_url, "Otto", role="organizer"))
    assert staff[0]["author"] == "alice-secret" and staff[0]["name"] == "Alice Secret"
    logged = await mod.wait_for(lambda c: [m for m in c.pushes("mod") if m["d"].get("kind") == "question"],
                                what="the staff copy")
    assert logged[0]["d"]["q"]["name"] == "Alice Secret"
    own = listed(await join(b.ws_url, "Alice Secret"))
    assert own[0]["mine"] is True and own[0]["name"] == "Alice Secret"

    await mod.request("qa.highlight", {"id": asked["id"]})
    hl = await bob.wait_for(lambda c: [m["d"] for m in c.pushes("qa") if m["d"]["kind"] == "highlight"],
                            what="the highlight")
    assert hl[0]["q"]["text"] == "Can I ask this safely?" and hl[0]["q"]["name"] == "Anonymous"
    screen = await join(b.ws_url, "Dan")
    assert screen.snapshot("qa")["d"]["highlighted"]["id"] == asked["id"]
    assert screen.snapshot("qa")["d"]["highlighted"]["author"] is None
    await mod.request("qa.answer", {"id": asked["id"]})
    await bob.wait_for(lambda c: any(q["status"] == "answered" for q in question_pushes(c)), what="answered")


async def test_counts_report_messages_and_questions_per_person(nodes: tuple[Node, Node], redis_url: str) -> None:
    a, b = nodes
    alice, bob = await join(a.ws_url, "Alice"), await join(b.ws_url, "Bob")
    for i in range(3):
        await alice.request("chat.send", {"text": f"m{i}", "cid": f"c{i}"})
    await alice.request("chat.send", {"text": "m0", "cid": "c0"})  # a retry counts once
    await bob.request("chat.send", {"text": "hello", "cid": "c0"})
    await bob.request("qa.ask", {"text": "A question?", "cid": "q"})
    await bob.request("qa.ask", {"text": "A question?", "cid": "q"})
    import os

    keys.configure(os.environ.get("TEST_KEY_PREFIX", "plenary-test"))
    client = aredis.Redis.from_url(redis_url)

    class Svc:  # counts() reads Redis only
        redis = client

    try:
        report = await counts(Svc(), EVENT)  # type: ignore[arg-type]
    finally:
        await client.aclose()
    assert report["chat"] == 4 and report["questions"] == 1
    assert report["by_user"] == {"alice": {"chat": 3, "questions": 0}, "bob": {"chat": 1, "questions": 1}}
    assert report["by_segment"] == {}  # the agenda has not started: no segment to attribute to


async def test_a_question_remembers_the_segment_it_was_asked_in(nodes: tuple[Node, Node], redis_url: str) -> None:
    a, b = nodes
    mod = await join(a.ws_url, "Mia", role="moderator")
    started = await mod.call("agenda.action", {"action": "start", "expected_version": 0})
    assert started["type"] == "ack"
    first = "welcome-cui-shuqiang"
    # the chat side caches "what is on" for a second, so ask (as new people) until the start shows
    asked: list[dict] = []
    for i in range(40):
        person = await join(b.ws_url, f"Asker {i}")
        reply = await person.request("qa.ask", {"text": f"question {i}", "cid": "1"})
        pushed = await mod.wait_for(lambda c, qid=reply["id"]: [
            m["d"]["q"] for m in c.pushes("qa") if m["d"].get("kind") == "question" and m["d"]["q"]["id"] == qid],
            what="the question push")
        asked.append(pushed[0])
        if pushed[0]["segment"] == first:
            break
    assert asked[-1]["segment"] == first
    import os

    keys.configure(os.environ.get("TEST_KEY_PREFIX", "plenary-test"))
    client = aredis.Redis.from_url(redis_url)

    class Svc:
        redis = client

    try:
        report = await counts(Svc(), EVENT)  # type: ignore[arg-type]
    finally:
        await client.aclose()
    assert report["by_segment"] == {first: {"chat": 0, "questions": sum(q["segment"] == first for q in asked)}}
