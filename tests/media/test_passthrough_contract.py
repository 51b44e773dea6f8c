"""The aiortc internals pass-through relies on (server/media/passthrough.py). If an aiortc upgrade
breaks any of them, these fail by name: fix passthrough.py, then move the pin in pyproject.toml."""

from __future__ import annotations

import asyncio
import fractions

import aiortc
import aiortc.rtcrtpreceiver
import av
from aiortc import RTCPeerConnection

from server.media import passthrough
from server.media.ice import configuration
from tests.media.peers import ColourTrack, h264_only


def test_aiortc_is_the_version_passthrough_was_checked_on() -> None:
    assert aiortc.__version__ == "1.16.0", "re-check server/media/passthrough.py before moving the pin"
    passthrough.check_contract()


async def test_receiver_yields_encoded_packets_and_pli_reaches_the_publisher() -> None:
    passthrough.install()
    sender_pc = RTCPeerConnection(configuration([]))
    receiver_pc = RTCPeerConnection(configuration([]))
    try:
        assert passthrough.installed()
        transceiver = sender_pc.addTransceiver(ColourTrack("blue"), direction="sendonly")
        h264_only(sender_pc)
        requests = []
        original = transceiver.sender._send_keyframe
        transceiver.sender._send_keyframe = lambda: (requests.append(1), original())  # type: ignore[method-assign]
        got: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        receiver_pc.on("track", lambda track: got.set_result(track))
        await sender_pc.setLocalDescription(await sender_pc.createOffer())
        await receiver_pc.setRemoteDescription(sender_pc.localDescription)
        await receiver_pc.setLocalDescription(await receiver_pc.createAnswer())
        await sender_pc.setRemoteDescription(receiver_pc.localDescription)
        track = await asyncio.wait_for(got, 10)
        first = await asyncio.wait_for(track.recv(), 10)  # type: ignore[attr-defined]
        assert isinstance(first, av.Packet), f"the receiver decoded: got {type(first).__name__}"
        assert first.is_keyframe and first.pts is not None and first.time_base == fractions.Fraction(1, 90000)
        assert bytes(first).startswith((b"\x00\x00\x00\x01", b"\x00\x00\x01"))  # H.264 Annex-B
        receiver = receiver_pc.getTransceivers()[0].receiver
        assert passthrough.request_keyframe(receiver)
        for _ in range(50):
            if requests:
                break
            await asyncio.sleep(0.1)
        assert requests, "the PLI sent through RTCRtpReceiver._send_rtcp_pli did not reach the publisher"
        # a sender handed packets only packetizes them: the override is what a PLI then calls
        called = []
        passthrough.on_keyframe_request(transceiver.sender, lambda: called.append(1))
        transceiver.sender._send_keyframe()
        assert called
    finally:
        passthrough.uninstall()
        await sender_pc.close()
        await receiver_pc.close()
    assert aiortc.rtcrtpreceiver.get_decoder is not passthrough.PassthroughDecoder


async def _connect_with_rsa_offerer() -> str:
    from aiortc.rtcdtlstransport import generate_certificate
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    offerer = RTCPeerConnection(configuration([]))
    offerer._RTCPeerConnection__certificates = [aiortc.RTCCertificate(key=key, cert=generate_certificate(key))]
    answerer = RTCPeerConnection(configuration([]))
    try:
        offerer.addTransceiver(ColourTrack("green"), direction="sendonly")
        await offerer.setLocalDescription(await offerer.createOffer())
        await answerer.setRemoteDescription(offerer.localDescription)
        await answerer.setLocalDescription(await answerer.createAnswer())
        await offerer.setRemoteDescription(answerer.localDescription)
        for _ in range(100):
            if answerer.connectionState in ("connected", "failed"):
                break
            await asyncio.sleep(0.1)
        return answerer.connectionState
    finally:
        await offerer.close()
        await answerer.close()


async def test_rsa_certificate_peer_like_gstreamer_connects_once_allowed() -> None:
    # stock aiortc: the RSA peer (DTLS server) finds no common cipher suite
    assert await _connect_with_rsa_offerer() == "failed"
    passthrough.allow_rsa_peers()
    try:
        assert await _connect_with_rsa_offerer() == "connected"
    finally:
        passthrough.disallow_rsa_peers()
