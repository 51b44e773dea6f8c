"""The program feed: switching what is on stage never renegotiates a viewer; clips play for all."""

from __future__ import annotations

import asyncio
import time

from tests.media.peers import publish, watch
from tests.support.servers import EVENT, Node
from tests.support.wsclient import Client, token


def _stage(c: Client) -> dict:  # type: ignore[type-arg]
    return c.by_topic["stage"][-1]["d"] if c.by_topic["stage"] else {}


async def test_switching_speakers_keeps_the_viewers_connection(media_node: Node) -> None:
    mod = await Client.connect(media_node.ws_url, token=token("moderator", "Mod"))
    a, res_a = await publish(media_node.url, EVENT, token("speaker", "Albert Krisskoy", sub="albert-krisskoy"), "blue")
    b, res_b = await publish(media_node.url, EVENT, token("speaker", "Neil Kothari", sub="neil-kothari"), "red")
    viewers = []
    try:
        assert res_a.status_code == res_b.status_code == 201
        await mod.wait_for(lambda c: {s["id"] for s in _stage(c).get("live_speakers", [])}
                           >= {"albert-krisskoy", "neil-kothari"}, timeout=20, what="both live")
        await mod.request("stage.show", {"speaker": "albert-krisskoy"})
        viewers = [await watch(media_node.url, EVENT, token("attendee", f"W{i}")) for i in range(2)]
        await asyncio.gather(*(v.wait_hue("blue", 10) for v in viewers))
        pcs = [v.pc for v in viewers]
        switched = time.monotonic()
        await mod.request("stage.show", {"speaker": "neil-kothari"})
        await asyncio.gather(*(v.wait_hue("red", 10, since=switched) for v in viewers))
        for v, pc in zip(viewers, pcs, strict=True):
            assert v.pc is pc and pc.connectionState == "connected"
            assert v.pc.remoteDescription is not None
        snap = _stage(mod)
        assert snap["on_stage"] == "neil-kothari" and snap["kind"] == "speaker"
        # the speaker leaving takes them off stage: the slate comes back for everyone
        await b.close()
        left = time.monotonic()
        await asyncio.gather(*(v.wait_hue("slate", 5, since=left) for v in viewers))
        await mod.wait_for(lambda c: _stage(c).get("kind") == "slate", what="slate after leave")
    finally:
        for v in viewers:
            await v.close()
        await a.close()
        await b.close()
        await mod.close()


async def test_video_message_segment_plays_its_clip_to_every_viewer(media_node: Node) -> None:
    mod = await Client.connect(media_node.ws_url, token=token("moderator", "Mod"))
    viewers = []
    try:
        await mod.request("stage.clear", {"slate": "starting soon"})
        viewers = [await watch(media_node.url, EVENT, token("attendee", f"C{i}")) for i in range(2)]
        await asyncio.gather(*(v.wait_hue("slate", 5) for v in viewers))
        version = mod.snapshot("agenda")["d"]["version"]  # type: ignore[index]
        await mod.request("agenda.action", {"action": "start", "expected_version": version})
        await mod.wait_for(lambda c: c.pushes("agenda"), timeout=20, what="agenda started")
        version = mod.by_topic["agenda"][-1]["d"]["version"]
        started = time.monotonic()
        await mod.request("agenda.action", {"action": "goto", "segment": "video-vladimir-norov",
                                            "expected_version": version})
        await mod.wait_for(lambda c: _stage(c).get("kind") == "clip", timeout=20, what="clip on stage")
        assert _stage(mod)["on_stage"] == "video-vladimir-norov"
        await asyncio.gather(*(v.wait_hue("clip", 20, since=started) for v in viewers))
        audio_before = [v.audio_frames for v in viewers]
        await asyncio.sleep(0)  # let the audio tasks run; the wait below is bounded
        for v, before in zip(viewers, audio_before, strict=True):
            for _ in range(50):
                if v.audio_frames > before + 10:
                    break
                await asyncio.sleep(0.1)
            assert v.audio_frames > before + 10  # the clip's tone reaches them too
        # the clip ends by itself and the slate returns (clips are 6 s)
        await mod.wait_for(lambda c: _stage(c).get("kind") == "slate", timeout=25, what="slate after clip")
    finally:
        for v in viewers:
            await v.close()
        await mod.close()
