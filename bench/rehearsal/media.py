"""The stage actors: speakers publishing over WHIP, the stage director, and WHEP viewers.

One process (its own asyncio loop), all on 127.0.0.1 (no STUN; host candidates pinned to loopback).
Media is the one node-local part of Plenary, so the stage lives on the first node: each live
segment's speaker publishes there just before the segment (an aiortc peer drawing a moving test
card, H.264), the director (a moderator socket) puts them on stage with ``stage.show`` once the
segment is on, or plays the recorded message with ``stage.clip`` for a ``video_message`` segment;
W viewers play the program over WHEP and decode every frame. Their figure is frames per second
actually decoded, per viewer, and the longest freeze.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from multiprocessing.connection import Connection
from typing import Any

from bench.rehearsal.actors import STEP_TIMEOUT, _recv, _run, _sleep_until

FPS = 30
WIDTH, HEIGHT = 320, 180


def _peer() -> Any:
    from aiortc import RTCPeerConnection

    from server.media.ice import configuration, restrict_host_addresses

    restrict_host_addresses(["127.0.0.1"])
    return RTCPeerConnection(configuration([]))


def _h264(pc: Any) -> None:
    from aiortc import RTCRtpSender

    codecs = RTCRtpSender.getCapabilities("video").codecs
    for t in pc.getTransceivers():
        if t.kind == "video":
            t.setCodecPreferences([c for c in codecs if c.mimeType.lower() in ("video/h264", "video/rtx")])


def _card_track(shade: int) -> Any:
    import av
    from aiortc import VideoStreamTrack

    class Card(VideoStreamTrack):
        """A grey card whose brightness says who is speaking, with a moving bar so frames differ."""

        def __init__(self) -> None:
            super().__init__()
            self.n = 0

        async def recv(self) -> av.VideoFrame:
            pts, base = await self.next_timestamp()
            frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
            y = bytearray([shade]) * (WIDTH * HEIGHT)
            row = (self.n * 4) % HEIGHT
            y[row * WIDTH:(row + 4) * WIDTH] = b"\xff" * (4 * WIDTH)
            frame.planes[0].update(bytes(y))
            for plane in frame.planes[1:]:
                plane.update(b"\x80" * (plane.line_size * plane.height))
            frame.pts, frame.time_base = pts, base
            self.n += 1
            return frame

    return Card()


async def _sdp_post(url: str, token: str, pc: Any) -> tuple[int, str]:
    import httpx
    from aiortc import RTCSessionDescription

    await pc.setLocalDescription(await pc.createOffer())
    async with httpx.AsyncClient(timeout=STEP_TIMEOUT) as http:
        res = await http.post(url, content=pc.localDescription.sdp,
                              headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"})
    if res.status_code == 201:
        await pc.setRemoteDescription(RTCSessionDescription(res.text, "answer"))
    return res.status_code, res.text[:200]


class Viewer:
    def __init__(self) -> None:
        self.pc = _peer()
        self.times: list[float] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self, url: str, token: str) -> tuple[int, str]:
        from aiortc.mediastreams import MediaStreamError

        self.pc.addTransceiver("video", direction="recvonly")
        _h264(self.pc)

        async def consume(track: Any) -> None:
            try:
                while True:
                    await track.recv()  # decoded: a frame that does not decode is not counted
                    self.times.append(time.time())
            except MediaStreamError:
                pass

        self.pc.on("track", lambda track: self.tasks.append(asyncio.ensure_future(consume(track))))
        return await _sdp_post(url, token, self.pc)

    def figures(self, since: float, until: float) -> tuple[float, float]:
        seen = [t for t in self.times if since <= t <= until]
        fps = len(seen) / max(until - since, 1e-3)
        edges = [since, *seen, until]
        freeze = max(b - a for a, b in itertools.pairwise(edges))
        return fps, freeze * 1000


async def _director_call(ws: Any, ids: Any, op: str, d: dict[str, Any]) -> dict[str, Any]:
    request_id = next(ids)
    await ws.send(json.dumps({"op": op, "id": request_id, "d": d}))
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        for msg in json.loads(await asyncio.wait_for(ws.recv(), STEP_TIMEOUT)):
            if msg.get("id") == request_id and msg.get("type") in ("ack", "error"):
                return dict(msg)
    return {"type": "error", "code": "timeout"}


async def _media(pipe: Connection, spec: dict[str, Any]) -> None:
    import websockets

    from server.auth import mint

    def token(role: str, sub: str, name: str) -> str:
        return mint(spec["secret"], event=spec["event"], role=role, name=name, sub=sub, ttl=4 * 3600)

    base, event = spec["url"], spec["event"]
    errors: list[str] = []
    ws = await websockets.connect(f"{spec['ws']}/ws/{event}", subprotocols=["plenary.v1"],  # type: ignore[list-item]
                                  open_timeout=STEP_TIMEOUT, max_size=2**24)
    ids = itertools.count(1)
    hello = await _director_call(ws, ids, "hello", {"token": token("moderator", "stage-1", "Stage director"),
                                                    "topics": []})
    if hello.get("type") != "ack":
        raise RuntimeError(f"director hello refused: {hello}")
    viewers = [Viewer() for _ in range(spec["viewers"])]
    for n, v in enumerate(viewers):
        status, text = await v.start(f"{base}/whep/{event}", token("attendee", f"v-{n}", f"Viewer {n}"))
        if status != 201:
            errors.append(f"WHEP viewer {n}: {status} {text}")
    pipe.send(("ready", None))
    kind, t0 = await _recv(pipe, 600)
    assert kind == "go", kind
    live: dict[str, Any] = {}
    shows = 0
    for n, seg in enumerate(spec["segments"]):
        if seg["kind"] != "video_message" and seg["speaker"]:
            # the speaker goes live a little before their segment, as they would backstage
            await _sleep_until(t0 + seg["start"] - 0.8)
            pc = _peer()
            pc.addTransceiver(_card_track(40 + (n * 13) % 180), direction="sendonly")
            _h264(pc)
            status, text = await _sdp_post(f"{base}/whip/{event}", token("speaker", seg["speaker"], seg["name"]), pc)
            if status != 201:
                errors.append(f"WHIP {seg['speaker']}: {status} {text}")
            live[seg["speaker"]] = pc
        await _sleep_until(t0 + seg["start"] + 0.2)
        if seg["kind"] == "video_message":
            reply = await _director_call(ws, ids, "stage.clip", {"segment": seg["id"]})
        elif seg["speaker"]:
            reply = {"type": "error", "code": "not_live"}
            for _ in range(20):  # ICE takes a moment: "not_live" until the publisher's media flows
                reply = await _director_call(ws, ids, "stage.show", {"speaker": seg["speaker"]})
                if reply.get("code") != "not_live":
                    break
                await asyncio.sleep(0.1)
        else:
            continue
        if reply.get("type") == "ack":
            shows += 1
        else:
            errors.append(f"stage for {seg['id']}: {reply.get('code')}: {reply.get('message')}")
        for sub in [s for s in live if s != seg["speaker"]]:
            await live.pop(sub).close()
    await _sleep_until(t0 + spec["end"])
    figures = [v.figures(t0 + 1.0, t0 + spec["end"]) for v in viewers]
    for pc in live.values():
        await pc.close()
    for v in viewers:
        await v.pc.close()
    await ws.close()
    pipe.send(("done", {"errors": errors, "shows": shows,
                        "fps": [round(f, 1) for f, _ in figures], "freeze_ms": [round(z) for _, z in figures]}))


def media_main(pipe: Connection, spec: dict[str, Any]) -> None:
    _run(_media, pipe, spec)
