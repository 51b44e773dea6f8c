"""Small helpers shared by the chat tests."""

from __future__ import annotations

from typing import Any

from tests.support.wsclient import Client, token

OPEN: list[Client] = []  # closed after each test by the ``nodes`` fixture


async def join(base: str, name: str, role: str = "attendee", **kw: Any) -> Client:
    """Connect as ``name`` (its id is the lower-cased name) and wait for the chat and Q&A snapshots."""
    client = await connect(base, token=token(role, name, sub=name.lower().replace(" ", "-")), **kw)
    topics = ["chat:main", "qa"] + (["mod"] if role in ("moderator", "organizer") else [])
    if not kw.get("resume"):
        await client.wait_for(lambda c: all(c.snapshot(t) for t in topics), what=f"snapshots of {topics}")
    return client


def chat_texts(client: Client, room: str = "main") -> list[str]:
    """What the client's chat shows now: its last snapshot plus later pushes, minus deletions."""
    topic = f"chat:{room}"
    shown: dict[str, str] = {}
    for msg in client.by_topic[topic]:
        d = msg["d"]
        if msg["type"] == "snapshot":
            shown = {m["id"]: m["text"] for m in d["messages"]}
        elif d.get("kind") == "message":
            shown[d["message"]["id"]] = d["message"]["text"]
        elif d.get("kind") == "delete":
            shown.pop(d["id"], None)
    return list(shown.values())


def message_pushes(client: Client, room: str = "main") -> list[dict[str, Any]]:
    return [m["d"]["message"] for m in client.pushes(f"chat:{room}") if m["d"].get("kind") == "message"]


async def connect(base: str, **kw: Any) -> Client:
    client = await Client.connect(base, **kw)
    OPEN.append(client)
    return client

