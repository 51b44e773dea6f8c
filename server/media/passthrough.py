"""The one module that reaches into aiortc internals: receive encoded frames without decoding.

Why: aiortc's ``RTCRtpReceiver`` always decodes what it receives, and each viewer's
``RTCRtpSender`` would then encode again, once per viewer (about 7 viewers per core at 360p,
1-2 at 720p; see docs/media.md). A sender that is handed an ``av.Packet[Any]`` instead of a frame only
packetizes it (public behaviour: ``MediaPlayer(decode=False)`` relies on it), so if the receiver
yields the re-assembled encoded frames as ``av.Packet[Any]`` the relay forwards them for the price of
RTP packetization and SRTP.

What is touched, all checked on aiortc 1.16.0 (pinned in pyproject.toml) by
tests/media/test_passthrough_contract.py, which fails loudly if an upgrade moves any of it:

1. ``aiortc.rtcrtpreceiver.get_decoder``: a module global the decoder thread looks up when a
   frame arrives. :func:`install` replaces it, process-wide, by one that returns
   :class:`PassthroughDecoder`; the server never needs decoded media, so process-wide is right.
   ``JitterFrame.data`` (a VP8 frame or H.264 Annex-B access unit, or an Opus packet) and
   ``JitterFrame.timestamp`` (RTP clock, already mapped to start at 0) are read.
2. ``RTCRtpReceiver._send_rtcp_pli(media_ssrc)``: a private coroutine, used to pass a viewer's
   keyframe request on to the publisher (:func:`request_keyframe`).
3. ``RTCRtpSender._send_keyframe``: what the sender calls on an incoming PLI/FIR; it only sets a
   flag for its encoder, which pass-through has none of. :func:`on_keyframe_request` overrides it
   per instance so the request reaches the relay instead.
4. ``RTCCertificate._create_ssl_context``: aiortc offers only ECDHE-ECDSA cipher suites, so a
   peer whose DTLS certificate is RSA (GStreamer's webrtcbin) cannot pick any suite when it is the
   DTLS server, and the handshake fails (aiortc issue 1434, PR 1392). :func:`allow_rsa_peers` adds
   the ECDHE-RSA suites after the ECDSA ones; our own certificate stays ECDSA P-256.
"""

from __future__ import annotations

import asyncio
import fractions
from collections.abc import Callable
from typing import Any

import aiortc.rtcrtpreceiver
import av
from aiortc import RTCCertificate, RTCRtpReceiver, RTCRtpSender

_pending: set[asyncio.Future[None]] = set()  # PLIs in flight, kept referenced until sent
_ORIGINAL_GET_DECODER = aiortc.rtcrtpreceiver.get_decoder  # type: ignore[attr-defined]
REQUIRED = (
    (aiortc.rtcrtpreceiver, "get_decoder"),
    (RTCRtpReceiver, "_send_rtcp_pli"),
    (RTCRtpSender, "_send_keyframe"),
    (RTCCertificate, "_create_ssl_context"),
)
CIPHERS = (b"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA:"
           b"ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:"
           b"ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA")
_ORIGINAL_SSL_CONTEXT = RTCCertificate._create_ssl_context


class ContractBroken(RuntimeError):
    """aiortc no longer has what pass-through relies on; see this module's docstring."""


def check_contract() -> None:
    """Raise :class:`ContractBroken` naming what is missing from the installed aiortc."""
    missing = [f"{getattr(owner, '__name__', owner)}.{name}" for owner, name in REQUIRED
               if not hasattr(owner, name)]
    if missing:
        raise ContractBroken(f"aiortc {aiortc.__version__} lacks {', '.join(missing)}; "
                             "pass-through was checked on aiortc 1.16.0")


def is_keyframe(codec: str, data: bytes) -> bool:
    """Whether an encoded frame can be decoded on its own (a late joiner may start there)."""
    if not data:
        return False
    name = codec.upper()
    if name == "VP8":
        return (data[0] & 0x01) == 0  # P bit of the VP8 frame tag: 0 = key frame
    if name == "H264":
        i = data.find(b"\x00\x00\x01")
        while i != -1 and i + 3 < len(data):
            if data[i + 3] & 0x1F in (5, 7):  # IDR slice, or SPS leading one
                return True
            i = data.find(b"\x00\x00\x01", i + 3)
        return False
    return True  # audio frames all stand alone


class PassthroughDecoder:
    """Duck-types ``aiortc.codecs.base.Decoder``: returns the encoded frame as an ``av.Packet[Any]``."""

    def __init__(self, codec: Any) -> None:
        self.name: str = codec.name
        self.time_base = fractions.Fraction(1, codec.clockRate)

    def decode(self, encoded_frame: Any) -> list[av.Packet[Any]]:
        data: bytes = encoded_frame.data
        packet = av.Packet(data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = self.time_base
        packet.is_keyframe = is_keyframe(self.name, data)
        return [packet]


def install() -> None:
    """Make every receiver in this process yield encoded ``av.Packet[Any]``s instead of frames."""
    check_contract()
    aiortc.rtcrtpreceiver.get_decoder = PassthroughDecoder  # type: ignore[attr-defined,assignment]


def allow_rsa_peers() -> None:
    """Let DTLS peers with RSA certificates (GStreamer) complete the handshake (see item 4 above)."""
    check_contract()

    def create(self: RTCCertificate, srtp_profiles: list[Any]) -> Any:
        ctx = _ORIGINAL_SSL_CONTEXT(self, srtp_profiles)
        ctx.set_cipher_list(CIPHERS)
        return ctx

    RTCCertificate._create_ssl_context = create  # type: ignore[method-assign]


def disallow_rsa_peers() -> None:
    RTCCertificate._create_ssl_context = _ORIGINAL_SSL_CONTEXT  # type: ignore[method-assign]


def uninstall() -> None:
    aiortc.rtcrtpreceiver.get_decoder = _ORIGINAL_GET_DECODER  # type: ignore[attr-defined]


def installed() -> bool:
    return aiortc.rtcrtpreceiver.get_decoder is PassthroughDecoder  # type: ignore[attr-defined,comparison-overlap]


def request_keyframe(receiver: RTCRtpReceiver) -> bool:
    """Send a PLI for the publisher's media on ``receiver``; False if its SSRC is not known yet."""
    sources = receiver.getSynchronizationSources()
    if not sources:
        return False
    task = asyncio.ensure_future(receiver._send_rtcp_pli(sources[0].source))
    _pending.add(task)
    task.add_done_callback(_pending.discard)
    return True


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Route the PLI/FIR a viewer sends on ``sender`` to ``callback`` (the sender has no encoder)."""
    sender._send_keyframe = callback  # type: ignore[method-assign]
