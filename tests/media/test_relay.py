"""WHIP -> relay -> WHEP with real aiortc peers: what a speaker sends is what every viewer sees."""

from __future__ import annotations

import asyncio

from tests.media.peers import publish, watch
from tests.support.servers import EVENT, Node
from tests.support.wsclient import Client, token


async def _live(mod: Client, speaker: str) -> None:
    def live(c: Client) -> bool:
        msgs = c.by_topic["stage"]
        return bool(msgs) and any(s["id"] == speaker for s in msgs[-1]["d"]["live_speakers"])

    await mod.wait_for(live, timeout=20, what=f"{speaker} live")


async def test_publisher_pattern_reaches_several_decoding_viewers(media_node: Node) -> None:
    mod = await Client.connect(media_node.ws_url, token=token("moderator", "Mod"))
    speaker = token("speaker", "Li Junjie", sub="li-junjie")
    pub, res = await publish(media_node.url, EVENT, speaker, "blue")
    viewers = []
    try:
        assert res.status_code == 201, res.text
        assert res.headers["content-type"].startswith("application/sdp")
        assert "a=candidate" in res.text and "127.0.0.1" in res.text
        await _live(mod, "li-junjie")
        await mod.request("stage.show", {"speaker": "li-junjie"})
        viewers = await asyncio.gather(*(watch(media_node.url, EVENT, token("attendee", f"V{i}"))
                                         for i in range(3)))
        for v in viewers:
            assert v.response.status_code == 201, v.response.text
            assert "a=sendonly" in v.response.text
        await asyncio.gather(*(v.wait_hue("blue", count=15) for v in viewers))
        for v in viewers:
            assert v.sizes == {(320, 180)}
        await mod.wait_for(lambda c: c.by_topic["stage"][-1]["d"]["on_stage"] == "li-junjie", what="on stage")
    finally:
        for v in viewers:
            await v.close()
        await pub.close()
        await mod.close()
