"""Recorded video messages: generated once at start-up, encoded once, played into the stage.

No media is committed or downloaded: for every ``video_message`` segment whose ``media`` is
``clips/<name>.mp4``, :func:`generate` encodes a short test pattern (the speaker's name, a frame
counter, a moving bar, and a 440 Hz tone) with PyAV into ``PLENARY_VAR_DIR/clips/<name>.mp4``
(H.264 baseline with a keyframe every second, Opus), unless the file is already there.

:func:`load` reads a clip's encoded packets into memory once (MP4's length-prefixed H.264 is turned
into Annex-B, which aiortc's packetizer wants) and :class:`FilePlayer` pushes them, paced by their
timestamps, into two :class:`~server.media.relay.Fanout`\\s. The program feed forwards those
packets to every viewer at the same moment: the clip is never decoded or encoded per viewer.
"""

from __future__ import annotations

import asyncio
import fractions
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
from av.bitstream import BitStreamFilterContext

from server.media.pattern import Painter
from server.media.relay import Fanout

WIDTH, HEIGHT, FPS = 640, 360, 30
AUDIO_RATE = 48000


@dataclass(frozen=True)
class Clip:
    name: str
    video: list[tuple[bytes, int, fractions.Fraction, bool]]
    audio: list[tuple[bytes, int, fractions.Fraction]]
    duration: float


def generate(path: Path, lines: list[str], seconds: float = 6.0, hue: str = "clip",
             bitrate: int = 700_000) -> Path:
    """Encode a test-pattern clip with a tone to ``path`` (MP4: H.264 + Opus). Runs in a thread."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.mp4")
    painter = Painter(WIDTH, HEIGHT, lines, hue)
    with av.open(str(tmp), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.bit_rate = bitrate
        video.options = {"preset": "ultrafast", "tune": "zerolatency", "profile": "baseline",
                         "g": str(FPS), "keyint_min": str(FPS), "bf": "0"}
        audio = out.add_stream("libopus", rate=AUDIO_RATE)
        audio.layout = "stereo"
        frames = int(seconds * FPS)
        for i in range(frames):
            frame = painter.frame(i)
            frame.pts = i
            frame.time_base = fractions.Fraction(1, FPS)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        samples = int(seconds * AUDIO_RATE)
        chunk = 960
        for start in range(0, samples, chunk):
            tone = [int(6000 * math.sin(2 * math.pi * 440 * (start + n) / AUDIO_RATE)) for n in range(chunk)]
            pcm = b"".join(v.to_bytes(2, "little", signed=True) * 2 for v in tone)
            sound = av.AudioFrame(format="s16", layout="stereo", samples=chunk)
            sound.planes[0].update(pcm)
            sound.sample_rate = AUDIO_RATE
            sound.pts = start
            sound.time_base = fractions.Fraction(1, AUDIO_RATE)
            out.mux(audio.encode(sound))
        out.mux(audio.encode(None))
    tmp.replace(path)
    return path


def load(path: Path) -> Clip:
    """Read every encoded packet of an MP4 clip (H.264 as Annex-B, Opus as is). Runs in a thread."""
    video: list[tuple[bytes, int, fractions.Fraction, bool]] = []
    audio: list[tuple[bytes, int, fractions.Fraction]] = []
    with av.open(str(path)) as container:
        vstream = container.streams.video[0]
        astreams = container.streams.audio
        bsf = BitStreamFilterContext("h264_mp4toannexb", vstream)
        for packet in container.demux():
            if packet.size == 0 or packet.pts is None:
                continue
            if packet.stream.type == "video":
                pts, key = int(packet.pts), bool(packet.is_keyframe)
                for out in bsf.filter(packet):
                    video.append((bytes(out), pts, vstream.time_base or fractions.Fraction(1, 90000), key))
            elif astreams and packet.stream is astreams[0]:
                audio.append((bytes(packet), int(packet.pts), packet.time_base or fractions.Fraction(1, AUDIO_RATE)))
    if not video:
        raise ValueError(f"{path} has no video")
    first = video[0][1]
    tb = video[0][2]
    duration = float((video[-1][1] - first) * tb) + 1 / FPS
    return Clip(path.stem, video, audio, duration)


def _packet(data: bytes, pts: int, time_base: fractions.Fraction, key: bool) -> av.Packet[Any]:
    packet = av.Packet(data)
    packet.pts = pts
    packet.time_base = time_base
    packet.is_keyframe = key
    return packet


class FilePlayer:
    """Plays a :class:`Clip` in real time into ``video`` and ``audio`` fan-outs (once, or looping)."""

    def __init__(self, clip: Clip, loop: bool = False) -> None:
        self.clip = clip
        self.loop = loop
        self.video = Fanout("video")
        self.audio = Fanout("audio")
        self._task: asyncio.Task[None] | None = None
        self.done = asyncio.Event()

    def request_keyframe(self) -> None:
        """Keyframes come every second in the clip; a joiner waits at most that long."""

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"clip-{self.clip.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self.video.end()
        self.audio.end()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        clip = self.clip
        timeline: list[tuple[float, str, av.Packet[Any]]] = []
        v0 = clip.video[0][1]
        for data, pts, tb, key in clip.video:
            timeline.append((float((pts - v0) * tb), "video", _packet(data, pts - v0, tb, key)))
        a0 = clip.audio[0][1] if clip.audio else 0
        for data, pts, tb in clip.audio:
            if pts >= a0:
                timeline.append((float((pts - a0) * tb), "audio", _packet(data, pts - a0, tb, True)))
        timeline.sort(key=lambda item: item[0])
        start = loop.time()
        rounds = 0
        try:
            while True:
                for at, kind, template in timeline:
                    delay = start + at - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tb = template.time_base
                    shift = int(rounds * clip.duration / tb) if rounds else 0
                    packet = _packet(bytes(template), int(template.pts or 0) + shift, tb, template.is_keyframe)
                    (self.video if kind == "video" else self.audio).push(packet)
                if not self.loop:
                    break
                rounds += 1
                start += clip.duration
        finally:
            self.done.set()
        self.video.end()
        self.audio.end()
