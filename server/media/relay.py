"""Fan-out of encoded media: one reader per source, one proxy per viewer, no re-encoding.

Shaped like aiortc's ``MediaRelay`` (one reader task per source, a proxy per consumer, every
proxy told when the source ends), but it carries encoded ``av.Packet[Any]``s (see passthrough.py), so
each viewer's ``RTCRtpSender`` only packetizes and encrypts. Differences that encoded media needs:

- A proxy starts at a keyframe (a late joiner cannot decode delta frames) and asks for one.
- A proxy holds a bounded queue; a viewer that falls behind is cut back to the next keyframe
  instead of growing memory or slowing anyone else.
- Keyframe requests from all viewers reach the source throttled (one per 0.5 s, as SFUs do:
  every keyframe costs the publisher 2-3x the bitrate of a delta frame).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

QUEUE_LIMIT = 90  # about 3 s of video at 30 fps


class KeyframeThrottle:
    """Call ``send`` at most once per ``interval`` seconds; later requests inside it are merged."""

    def __init__(self, send: Callable[[], object], interval: float = 0.5) -> None:
        self.send = send
        self.interval = interval
        self.last = -interval
        self.requested = 0
        self.sent = 0
        self._pending: asyncio.TimerHandle | None = None

    def __call__(self) -> None:
        self.requested += 1
        now = time.monotonic()
        if now - self.last >= self.interval:
            self._fire()
        elif self._pending is None:
            # one trailing request, so a joiner inside the window is not left waiting a whole GOP
            delay = self.interval - (now - self.last)
            self._pending = asyncio.get_running_loop().call_later(delay, self._fire)

    def _fire(self) -> None:
        self._pending = None
        self.last = time.monotonic()
        self.sent += 1
        self.send()

    def cancel(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None


class Fanout:
    """One encoded stream (one kind) and its proxies; ``push`` is called by its single reader."""

    def __init__(self, kind: str, request_keyframe: Callable[[], None] | None = None) -> None:
        self.kind = kind
        self.proxies: set[Proxy] = set()
        self.request_keyframe: Callable[[], None] = request_keyframe or (lambda: None)
        self.packets = 0
        self.ended = False

    def subscribe(self) -> Proxy:
        proxy = Proxy(self)
        self.proxies.add(proxy)
        if self.kind == "video":
            self.request_keyframe()
        return proxy

    def push(self, packet: av.Packet[Any]) -> None:
        self.packets += 1
        for proxy in self.proxies:
            proxy.offer(packet)

    def end(self) -> None:
        self.ended = True
        for proxy in list(self.proxies):
            proxy.offer(None)
        self.proxies.clear()


class Proxy(MediaStreamTrack):
    """What one viewer's sender (or the program feed) reads from a :class:`Fanout`."""

    def __init__(self, source: Fanout) -> None:
        super().__init__()
        self.kind = source.kind
        self.source = source
        self.queue: deque[av.Packet[Any] | None] = deque()
        self.waiting_keyframe = source.kind == "video"
        self.skipped = 0
        self._ready = asyncio.Event()

    def offer(self, packet: av.Packet[Any] | None) -> None:
        if packet is not None and self.waiting_keyframe:
            if not packet.is_keyframe:
                self.skipped += 1
                return
            self.waiting_keyframe = False
        if len(self.queue) >= QUEUE_LIMIT:
            # this viewer fell behind: drop what it has and start again from a keyframe
            self.queue.clear()
            if self.kind == "video":
                self.waiting_keyframe = True
                self.source.request_keyframe()
                if packet is not None and not packet.is_keyframe:
                    self._ready.set()
                    return
        self.queue.append(packet)
        self._ready.set()

    async def recv(self) -> av.Packet[Any]:
        while not self.queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        packet = self.queue.popleft()
        if packet is None:
            self.stop()
            raise MediaStreamError
        return packet

    def stop(self) -> None:
        super().stop()
        self.source.proxies.discard(self)
        self._ready.set()
