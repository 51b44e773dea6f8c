"""HTTP routes and hub wiring of the media capability.

Hub topic ``stage`` (audience roles): ``{on_stage, kind, slate, live_speakers: [{id, name}]}``,
pushed on every change. Ops for moderators and organizers: ``stage.show {speaker}``,
``stage.clear {slate?: "starting soon" | "break" | "title" | null}`` (null: off air) and
``stage.clip {segment}`` (play a video_message segment's clip now).
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.routing import BaseRoute

from server.auth import AUDIENCE, STAFF, Claims
from server.media import passthrough, whep, whip
from server.media.ice import parse_addresses, restrict_host_addresses
from server.media.service import Media
from server.realtime.hub import OpContext, OpError
from server.services import Services


class Show(msgspec.Struct, frozen=True):
    speaker: str


class Clear(msgspec.Struct, frozen=True):
    slate: str | None = "title"


class PlayClip(msgspec.Struct, frozen=True):
    segment: str


def routes() -> list[BaseRoute]:
    return [*whip.routes(), *whep.routes()]


async def install(svc: Services) -> None:
    """Switch receivers to pass-through, pin ICE addresses, declare the stage topic and ops."""
    passthrough.install()
    passthrough.allow_rsa_peers()
    local, announced = parse_addresses(svc.settings.ice_addresses)
    restrict_host_addresses(local)
    media = Media(svc, announced)
    svc.extras["media"] = media
    hub = svc.hub

    async def snapshot(event: str, claims: Claims) -> dict[str, Any]:
        return media.stage(event).snapshot()

    async def show(ctx: OpContext, d: Show) -> dict[str, Any]:
        stage = media.stage(ctx.event)
        if d.speaker not in stage.publishers:
            raise OpError("not_live", f"{d.speaker!r} is not live on this node", live=sorted(stage.publishers))
        await stage.show(d.speaker)
        return stage.snapshot()

    async def clear(ctx: OpContext, d: Clear) -> dict[str, Any]:
        from server.media.slate import LABELS

        if d.slate is not None and d.slate not in LABELS:
            raise OpError("unknown_slate", f"slate must be one of {', '.join(LABELS)} or null")
        stage = media.stage(ctx.event)
        await stage.show_slate(d.slate)
        return stage.snapshot()

    async def clip(ctx: OpContext, d: PlayClip) -> dict[str, Any]:
        event = svc.events[ctx.event]
        segment = next((s for s in event.segments if s.id == d.segment), None)
        if segment is None or not segment.media:
            raise OpError("no_clip", f"segment {d.segment!r} has no recorded message")
        player = media.clip_player(segment.media)
        if player is None:
            raise OpError("clip_not_ready", "the clip is still being prepared; try again in a moment")
        stage = media.stage(ctx.event)
        await stage.play(segment.id, player)
        return stage.snapshot()

    hub.topic("stage", AUDIENCE, snapshot)
    hub.op("stage.show", STAFF, show, Show)
    hub.op("stage.clear", STAFF, clear, Clear)
    hub.op("stage.clip", STAFF, clip, PlayClip)
    media.start()


async def uninstall(svc: Services) -> None:
    """Close every peer connection (ICE consent revocation, DTLS close) and stop players."""
    media: Media | None = svc.extras.get("media")
    if media is not None:
        await media.stop()
