import asyncio
from tests.support.servers import Node
from tests.support.wsclient import Client, token


async def test_send(two_nodes) -> None:
    a, b = two_nodes
    alice = await Client.connect(a.ws_url, token=token("attendee", "Alice", sub="alice"))
    bob = await Client.connect(b.ws_url, token=token("attendee", "Bob", sub="bob"))
    print(alice.snapshot("chat:main"), alice.snapshot("qa"), alice.snapshot("reactions"))
    r = await alice.request("chat.send", {"text": "hi", "cid": "c1"})
    print(r)
    m = await bob.wait_for(lambda c: c.pushes("chat:main"))
    print(m)
    print(await alice.call("qa.ask", {"text": "q?", "cid": "q1", "anonymous": True}))
    print(await bob.call("qa.upvote", {"id": "q1"}))
    print(await bob.call("react", {"emoji": "👏"}))
    await bob.wait_for(lambda c: c.pushes("reactions"))
    print(bob.by_topic)
