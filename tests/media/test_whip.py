"""WHIP/WHEP HTTP behaviour: the OBS shape, the error cases, replacing a session, off air."""

from __future__ import annotations

import re

import httpx
from aiortc import RTCPeerConnection, RTCSessionDescription

from server.media.ice import configuration
from tests.media.peers import ColourTrack, h264_only, publish, watch
from tests.support.servers import EVENT, Node, wait_until
from tests.support.wsclient import Client, token

SDP = {"Content-Type": "application/sdp"}


async def _offer() -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection(configuration([]))
    pc.addTransceiver(ColourTrack("green"), direction="sendonly")
    pc.addTransceiver("audio", direction="sendonly")
    h264_only(pc)
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


def _auth(tok: str, bearer: bool = True) -> dict[str, str]:
    return {**SDP, "Authorization": f"Bearer {tok}" if bearer else tok}


async def test_obs_shaped_offer_gets_candidates_connects_and_deletes(media_node: Node) -> None:
    pc, sdp = await _offer()
    obs = "\r\n".join(line for line in sdp.split("\r\n")
                      if not line.startswith(("a=candidate", "a=end-of-candidates")))
    assert "a=candidate" not in obs
    tok = token("speaker", "Timur Malikov", sub="timur-malikov")
    try:
        async with httpx.AsyncClient(base_url=media_node.url, timeout=15) as http:
            res = await http.post(f"/whip/{EVENT}", content=obs, headers=_auth(tok))
            assert res.status_code == 201, res.text
            assert res.text.startswith("v=0") and "a=recvonly" in res.text
            assert "a=end-of-candidates" in res.text
            candidates = re.findall(r"a=candidate:\S+ \d+ \S+ \d+ (\S+) ", res.text)
            assert candidates and set(candidates) == {"127.0.0.1"}  # PLENARY_ICE_ADDRESSES=127.0.0.1
            assert re.fullmatch(r'"[0-9a-f]+"', res.headers["etag"])
            location = res.headers["location"]
            assert location.startswith(f"/whip/{EVENT}/r/")
            await pc.setRemoteDescription(RTCSessionDescription(res.text, "answer"))
            for _ in range(100):
                if pc.connectionState == "connected":
                    break
                import asyncio

                await asyncio.sleep(0.1)
            assert pc.connectionState == "connected"
            trickle = await http.patch(location, content="a=ice-ufrag:" + _ufrag(sdp) + "\r\n"
                                       "a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n",
                                       headers={"Content-Type": "application/trickle-ice-sdpfrag",
                                                "Authorization": f"Bearer {tok}"})
            assert trickle.status_code == 204 and not trickle.content
            restart = await http.patch(location, content="a=ice-ufrag:newone\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n",
                                       headers={"Content-Type": "application/trickle-ice-sdpfrag",
                                                "Authorization": f"Bearer {tok}", "If-Match": "*"})
            assert restart.status_code == 422 and restart.json()["code"] == "ice_restart_unsupported"
            wrong = await http.patch(location, content="x", headers={"Content-Type": "text/plain",
                                                                     "Authorization": f"Bearer {tok}"})
            assert wrong.status_code == 415
            gone = await http.delete(location, headers={"Authorization": f"Bearer {tok}"})
            assert gone.status_code == 200
            again = await http.delete(location, headers={"Authorization": f"Bearer {tok}"})
            assert again.status_code == 404
    finally:
        await pc.close()


def _ufrag(sdp: str) -> str:
    return re.search(r"a=ice-ufrag:(\S+)", sdp).group(1)  # type: ignore[union-attr]


async def test_offer_errors_are_coded_problems(media_node: Node) -> None:
    pc, sdp = await _offer()
    await pc.close()
    tok = token("speaker", "Niu Wenwen", sub="niu-wenwen")
    av1 = re.sub(r"H264/90000", "AV1/90000", sdp)
    second_video = sdp + sdp[sdp.index("m=video"):sdp.index("m=audio")] if "m=audio" in sdp else sdp
    async with httpx.AsyncClient(base_url=media_node.url, timeout=15) as http:
        res = await http.post(f"/whip/{EVENT}", content=sdp, headers=SDP)
        assert res.status_code == 401 and res.headers["www-authenticate"].startswith("Bearer")
        res = await http.post(f"/whip/{EVENT}", content=sdp,
                              headers={"Content-Type": "text/plain", "Authorization": f"Bearer {tok}"})
        assert res.status_code == 415
        res = await http.post(f"/whip/{EVENT}", content="hello", headers=_auth(tok))
        assert res.status_code == 400 and res.json()["code"] == "malformed_sdp"
        res = await http.post(f"/whip/{EVENT}", content=av1, headers=_auth(tok))
        assert res.status_code == 422 and "H264" in res.json()["detail"]
        assert res.json()["supported"]["video"]
        res = await http.post(f"/whip/{EVENT}", content=second_video, headers=_auth(tok))
        assert res.status_code == 422 and "2 video tracks" in res.json()["detail"]
        res = await http.post(f"/whip/{EVENT}", content=sdp, headers=_auth(token("attendee", "A")))
        assert res.status_code == 403
        res = await http.options(f"/whip/{EVENT}")
        assert res.status_code == 200 and res.headers["accept-post"] == "application/sdp"


async def test_same_speaker_replaces_and_another_token_gets_409(media_node: Node) -> None:
    tok = token("speaker", "Zheng Han", sub="zheng-han")
    first, res1 = await publish(media_node.url, EVENT, tok, "green", bearer=False)  # bare token, as some clients send
    second = third = None
    try:
        assert res1.status_code == 201, res1.text
        second, res2 = await publish(media_node.url, EVENT, tok, "green")
        assert res2.status_code == 201
        wait_until(lambda: httpx.delete(media_node.url + res1.headers["location"],
                                        headers={"Authorization": f"Bearer {tok}"}).status_code == 404,
                   5, what="old session replaced")
        organizer = token("organizer", "Stage manager")
        third, res3 = await publish(media_node.url, EVENT, organizer, "red", path=f"/whip/{EVENT}/zheng-han")
        assert res3.status_code == 409 and res3.json()["code"] == "slot_taken"
    finally:
        for pc in (first, second, third):
            if pc is not None:
                await pc.close()


async def test_whep_off_air_gets_409_with_retry_after(media_node: Node) -> None:
    mod = await Client.connect(media_node.ws_url, token=token("moderator", "Mod"))
    try:
        await mod.request("stage.clear", {"slate": None})
        viewer = await watch(media_node.url, EVENT, token("attendee", "Early"))
        await viewer.close()
        assert viewer.response.status_code == 409
        assert int(viewer.response.headers["retry-after"]) > 0
        await mod.request("stage.clear", {"slate": "starting soon"})
        viewer = await watch(media_node.url, EVENT, token("attendee", "Later"))
        try:
            assert viewer.response.status_code == 201
            await viewer.wait_hue("slate", count=5)
        finally:
            await viewer.close()
    finally:
        await mod.close()
