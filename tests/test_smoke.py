"""The first thing a newcomer does: start a node and see the reference event."""

from tests.support.servers import Node


def test_node_serves_the_reference_event(node: Node) -> None:
    assert node.get("/livez").status_code == 200
    ready = node.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    events = node.get("/api/events").json()
    assert [e["id"] for e in events] == ["zgc-sco-2021"]
    event = node.get("/api/events/zgc-sco-2021").json()
    names = [p["name"] for s in event["segments"] for p in s["people"]]
    assert "Vladimir Norov" in names and "Sherif Abdelsamie" in names
