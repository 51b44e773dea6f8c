"""Real aiortc peers for the media tests: a publisher drawing a known colour, viewers decoding it.

Everything stays on 127.0.0.1: no STUN server, host candidates restricted to loopback.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import av
import httpx
from aiortc import (
    AudioStreamTrack,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamError

from server.media.ice import configuration, restrict_host_addresses
from server.media.pattern import HUES

restrict_host_addresses(["127.0.0.1"])
WIDTH, HEIGHT = 320, 180


class ColourTrack(VideoStreamTrack):
    """Flat frames of one of pattern.HUES, with a frame counter in the luma."""

    def __init__(self, hue: str) -> None:
        super().__init__()
        self.u, self.v = HUES[hue]
        self.count = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        frame.planes[0].update(bytes([(self.count * 7) % 200 + 20]) * (WIDTH * HEIGHT))
        frame.planes[1].update(bytes([self.u]) * (WIDTH * HEIGHT // 4))
        frame.planes[2].update(bytes([self.v]) * (WIDTH * HEIGHT // 4))
        frame.pts, frame.time_base = pts, time_base
        self.count += 1
        return frame


def h264_only(pc: RTCPeerConnection) -> None:
    codecs = RTCRtpSender.getCapabilities("video").codecs
    for t in pc.getTransceivers():
        if t.kind == "video":
            t.setCodecPreferences([c for c in codecs if c.mimeType.lower() in ("video/h264", "video/rtx")])


async def publish(base: str, event: str, token: str, hue: str, *, path: str | None = None,
                  bearer: bool = True) -> tuple[RTCPeerConnection, httpx.Response]:
    pc = RTCPeerConnection(configuration([]))
    pc.addTransceiver(ColourTrack(hue), direction="sendonly")
    pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
    h264_only(pc)
    await pc.setLocalDescription(await pc.createOffer())
    auth = f"Bearer {token}" if bearer else token
    async with httpx.AsyncClient(timeout=15) as http:
        res = await http.post(base + (path or f"/whip/{event}"), content=pc.localDescription.sdp,
                              headers={"Content-Type": "application/sdp", "Authorization": auth})
    if res.status_code == 201:
        await pc.setRemoteDescription(RTCSessionDescription(res.text, "answer"))
    return pc, res


def mean(data: bytes) -> float:
    sample = data[:: max(1, len(data) // 500)]
    return sum(sample) / len(sample)


@dataclass
class Viewer:
    pc: RTCPeerConnection
    response: httpx.Response
    frames: list[tuple[float, float, float]] = field(default_factory=list)  # (at, U mean, V mean)
    audio_frames: int = 0
    sizes: set[tuple[int, int]] = field(default_factory=set)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def hues(self, since: float = 0.0) -> list[str]:
        out = []
        for at, u, v in self.frames:
            if at >= since:
                out.append(min(HUES, key=lambda h: abs(HUES[h][0] - u) + abs(HUES[h][1] - v)))
        return out

    async def wait_hue(self, hue: str, count: int = 10, timeout: float = 20, since: float = 0.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.hues(since).count(hue) >= count:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"viewer did not see {count} {hue} frames in {timeout} s (saw {self.hues(since)[-20:]})")

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await self.pc.close()


async def watch(base: str, event: str, token: str, audio: bool = True) -> Viewer:
    pc = RTCPeerConnection(configuration([]))
    pc.addTransceiver("video", direction="recvonly")
    if audio:
        pc.addTransceiver("audio", direction="recvonly")
    h264_only(pc)
    await pc.setLocalDescription(await pc.createOffer())
    async with httpx.AsyncClient(timeout=15) as http:
        res = await http.post(f"{base}/whep/{event}", content=pc.localDescription.sdp,
                              headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"})
    viewer = Viewer(pc, res)

    async def consume(track: Any) -> None:
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    viewer.sizes.add((frame.width, frame.height))
                    viewer.frames.append((time.monotonic(), mean(bytes(frame.planes[1])),
                                          mean(bytes(frame.planes[2]))))
                else:
                    viewer.audio_frames += 1
        except MediaStreamError:
            pass

    pc.on("track", lambda track: viewer.tasks.append(asyncio.ensure_future(consume(track))))
    if res.status_code == 201:
        await pc.setRemoteDescription(RTCSessionDescription(res.text, "answer"))
    return viewer
