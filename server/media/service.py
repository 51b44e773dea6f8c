"""The media capability's state on this node: stages, sessions, clips, and the agenda follower.

Media is the one node-local thing (DESIGN.md): a peer connection lives in the process that
answered it, so sessions, publishers and each event's program feed are kept here, in memory.
The stage's *state* is pushed on the hub topic ``stage``, which every node fans out.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from starlette.requests import HTTPConnection

from server.media import clips, slate
from server.media.session import Session
from server.media.stage import Stage
from server.services import Services

log = logging.getLogger("plenary.media")
FOLLOW_INTERVAL = 0.5


class Media:
    def __init__(self, svc: Services, announced: dict[str, str]) -> None:
        self.svc = svc
        self.settings = svc.settings
        self.announced = announced
        self.stages: dict[str, Stage] = {}
        self.sessions: dict[str, Session] = {}
        self.slots: dict[tuple[str, str], Any] = {}  # (event, slot) -> whip.Publisher
        self.clips: dict[str, clips.Clip] = {}  # "clips/<name>.mp4" -> clip
        self.slates: dict[str, dict[str, clips.Clip]] = {}
        self.ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._segments: dict[str, str | None] = {}

    @property
    def clip_dir(self) -> Path:
        return Path(self.settings.var_dir) / "clips"

    def stage(self, event: str) -> Stage:
        stage = self.stages.get(event)
        if stage is None:
            async def notify(snapshot: dict[str, Any]) -> None:
                await self.svc.hub.publish(event, "stage", snapshot)

            stage = Stage(event, notify, lambda label: self._slate_player(event, label))
            self.stages[event] = stage
        return stage

    def _slate_player(self, event: str, label: str) -> Any:
        found = self.slates.get(event, {}).get(label)
        return None if found is None else clips.FilePlayer(found, loop=True)

    def clip_player(self, media_path: str) -> clips.FilePlayer | None:
        clip = self.clips.get(media_path)
        return None if clip is None else clips.FilePlayer(clip)

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._prepare(), name="media-prepare"))
        self._tasks.append(asyncio.create_task(self._follow(), name="media-agenda-follow"))

    async def _prepare(self) -> None:
        """Generate and load clips and slates off the event loop, then put the slates up."""
        loop = asyncio.get_running_loop()
        for event in self.svc.events.values():
            try:
                self.slates[event.id] = await loop.run_in_executor(
                    None, slate.build, self.clip_dir, event.id, event.info.title, event.info.subtitle)
            except Exception:
                log.exception("could not build the slates of %s", event.id)
            for segment in event.segments:
                if segment.media and segment.media not in self.clips:
                    try:
                        self.clips[segment.media] = await loop.run_in_executor(
                            None, _clip_for, self.clip_dir, segment.media,
                            [p.name for p in segment.people] + [segment.title])
                    except Exception:
                        log.exception("could not build clip %s", segment.media)
            stage = self.stage(event.id)
            if stage.kind == "slate" and stage.program.feed is None:
                await stage.show_slate(stage.slate)
        self.ready.set()

    async def _follow(self) -> None:
        """Follow the agenda: a starting segment puts its speaker (if live) or its clip on stage.

        Polling keeps the agenda capability's internals out of this one: it publishes on its own
        topic for browsers, and ``current_segment`` is its public function for other capabilities.
        """
        from server.agenda.state import current_segment

        await self.ready.wait()
        while True:
            for event in self.svc.events:
                try:
                    segment = await current_segment(self.svc, event)
                    seg_id = segment.id if segment else None
                    if self._segments.get(event, "-") != seg_id:
                        first = event not in self._segments
                        self._segments[event] = seg_id
                        if not first:
                            await self.on_segment(event, segment)
                except Exception:
                    log.exception("agenda follow failed for %s", event)
            await asyncio.sleep(FOLLOW_INTERVAL)

    async def on_segment(self, event: str, segment: Any) -> None:
        stage = self.stage(event)
        if segment is None:
            await stage.show_slate("title")
            return
        if segment.media:
            player = self.clip_player(segment.media)
            if player is not None:
                await stage.play(segment.id, player)
                return
        for person in segment.people:
            if person.key in stage.publishers:
                await stage.show(person.key)
                return
        if segment.kind == "break":
            await stage.show_slate("break")

    async def end(self, session: Session) -> None:
        if self.sessions.pop(session.id, None) is None and session.closed:
            return
        await session.close()
        if session.kind == "whip":
            from server.media.whip import end_publisher

            await end_publisher(self, session)
        else:
            from server.media.whep import end_viewer

            await end_viewer(session)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for session in list(self.sessions.values()):
            await self.end(session)
        for stage in self.stages.values():
            await stage.close()


def _clip_for(clip_dir: Path, media: str, lines: list[str]) -> clips.Clip:
    path = clip_dir / Path(media).name
    if not path.exists():
        clips.generate(path, lines)
    return clips.load(path)


def media_of(conn: HTTPConnection) -> Media:
    media: Media = conn.app.state.services.extras["media"]
    return media
