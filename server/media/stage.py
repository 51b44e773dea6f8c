"""The stage: one program feed per event that every viewer watches.

A :class:`Program` owns two fan-outs (video, audio) that viewers subscribe to once, when their
WHEP session starts. What feeds the program changes underneath (a live speaker, a recorded
message, the slate) without touching any viewer's peer connection: :meth:`Program.switch`
re-points one reader, waits for the new source's keyframe (and asks it for one) so no viewer
gets delta frames from a picture it never saw, and rewrites timestamps so that each viewer's
RTP clock runs on without a jump. The rewrite happens once per frame, not once per viewer.

:class:`Stage` is the moderator's model of it: who is live, who is on stage, which slate.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import av
from aiortc.mediastreams import MediaStreamError

from server.media.relay import Fanout, Proxy

log = logging.getLogger("plenary.media.stage")

CLOCK = {"video": 90000, "audio": 48000}
STEP = {"video": 3000, "audio": 960}  # one frame at 30 fps; one 20 ms Opus packet


class Feed(Protocol):
    """Anything the program can show: a live publisher, a clip player, the slate."""

    video: Fanout
    audio: Fanout

    def request_keyframe(self) -> None: ...


class Program:
    """The feed every viewer of one event receives; see the module docstring."""

    def __init__(self, on_feed_end: Callable[[Feed], Awaitable[None]]) -> None:
        self.video = Fanout("video", self.request_keyframe)
        self.audio = Fanout("audio")
        self.feed: Feed | None = None
        self.switches = 0
        self._on_feed_end = on_feed_end
        self._next = {"video": 0, "audio": 0}
        self._pumps: list[asyncio.Task[None]] = []
        self._proxies: list[Proxy] = []

    def request_keyframe(self) -> None:
        if self.feed is not None:
            self.feed.request_keyframe()

    @property
    def viewers(self) -> int:
        return len(self.video.proxies)

    async def switch(self, feed: Feed | None) -> None:
        for task in self._pumps:
            task.cancel()
        for task in self._pumps:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        for proxy in self._proxies:
            proxy.stop()
        self._pumps, self._proxies = [], []
        self.feed = feed
        self.switches += 1
        if feed is None:
            return
        for kind, source, target in (("video", feed.video, self.video), ("audio", feed.audio, self.audio)):
            proxy = source.subscribe()
            self._proxies.append(proxy)
            self._pumps.append(asyncio.create_task(self._pump(kind, feed, proxy, target), name=f"program-{kind}"))

    async def _pump(self, kind: str, feed: Feed, proxy: Proxy, target: Fanout) -> None:
        clock = CLOCK[kind]
        time_base = fractions.Fraction(1, clock)
        offset: int | None = None
        try:
            while True:
                packet = await proxy.recv()
                if packet.pts is None or packet.time_base is None:
                    continue
                pts = int(packet.pts * packet.time_base * clock)
                if offset is None:
                    offset = self._next[kind] - pts  # continue this viewer clock where it stopped
                out = av.Packet(bytes(packet))
                out.pts = pts + offset
                out.time_base = time_base
                out.is_keyframe = packet.is_keyframe
                self._next[kind] = max(self._next[kind], out.pts + STEP[kind])
                target.push(out)
        except MediaStreamError:
            if kind == "video" and self.feed is feed:
                asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self._on_feed_end(feed)))

    async def close(self) -> None:
        await self.switch(None)
        self.video.end()
        self.audio.end()


class Stage:
    """Per event: the live publishers (by slot), what is on stage, and the program feed."""

    def __init__(self, event: str, notify: Callable[[dict[str, Any]], Awaitable[None]],
                 slate_for: Callable[[str], Feed | None]) -> None:
        self.event = event
        self.publishers: dict[str, Any] = {}  # slot -> whip.Publisher
        self.on_stage: str | None = None
        self.kind = "slate"
        self.slate = "starting soon"
        self.program = Program(self._feed_ended)
        self._notify = notify
        self._slate_for = slate_for
        self._player: Any = None  # the clip or slate player feeding the program now
        self._lock = asyncio.Lock()

    def snapshot(self) -> dict[str, Any]:
        return {
            "on_stage": self.on_stage,
            "kind": self.kind,
            "slate": self.slate if self.kind == "slate" else None,
            "live_speakers": [{"id": slot, "name": pub.name} for slot, pub in sorted(self.publishers.items())],
        }

    @property
    def has_picture(self) -> bool:
        return self.program.feed is not None

    async def _set(self, kind: str, on_stage: str | None, feed: Feed | None, player: Any = None) -> None:
        old_player, self._player = self._player, player
        self.kind, self.on_stage = kind, on_stage
        await self.program.switch(feed)
        if old_player is not None and old_player is not player:
            await old_player.stop()
        await self._notify(self.snapshot())

    async def show(self, slot: str) -> None:
        async with self._lock:
            publisher = self.publishers.get(slot)
            if publisher is None:
                raise LookupError(slot)
            await self._set("speaker", slot, publisher)

    async def play(self, segment_id: str, player: Any) -> None:
        async with self._lock:
            player.start()
            await self._set("clip", segment_id, player, player)

    async def show_slate(self, label: str | None) -> None:
        """``label`` "starting soon", "break", "title"; None takes the stage off air (WHEP gets 409)."""
        async with self._lock:
            await self._show_slate(label)

    async def _show_slate(self, label: str | None) -> None:
        if label is None:
            self.slate = "off"
            await self._set("off", None, None)
            return
        self.slate = label
        feed = self._slate_for(label)
        if feed is not None:
            feed.start()  # type: ignore[attr-defined]
        await self._set("slate", None, feed, feed)

    async def add_publisher(self, slot: str, publisher: Any) -> None:
        async with self._lock:
            self.publishers[slot] = publisher
            if self.kind == "speaker" and self.on_stage == slot:
                await self.program.switch(publisher)  # a reconnect replaces the picture in place
            await self._notify(self.snapshot())

    async def remove_publisher(self, slot: str, publisher: Any) -> None:
        async with self._lock:
            if self.publishers.get(slot) is not publisher:
                return
            del self.publishers[slot]
            if self.kind == "speaker" and self.on_stage == slot:
                await self._show_slate("title")
            else:
                await self._notify(self.snapshot())

    async def _feed_ended(self, feed: Feed) -> None:
        async with self._lock:
            if self.program.feed is feed and self.kind == "clip":
                await self._show_slate("title")

    async def close(self) -> None:
        if self._player is not None:
            await self._player.stop()
        await self.program.close()
