"""WHIP ingest (RFC 9725): a speaker, or OBS, publishes to POST /whip/{event}.

The *slot* is the speaker id: the token's ``sub`` for POST /whip/{event}, or the id in
POST /whip/{event}/{slot}, which only moderators and organizers may use (a hall camera's OBS
publishing on a speaker's behalf). The same token subject reconnecting to its slot replaces its
old session (OBS reconnects before consent expiry does its work); anyone else's token for an
occupied slot gets 409. A speaker counts as live once its connection is up, not on POST.
"""

from __future__ import annotations

import asyncio
import logging

from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.auth import BACKSTAGE, STAFF, Role, require
from server.media import passthrough, sdp
from server.media.ice import announce, configuration
from server.media.relay import Fanout, KeyframeThrottle
from server.media.service import media_of
from server.media.session import Session, answer_response, options_response, patch, read_sdp
from server.problems import Problem
from server.services import event_of

log = logging.getLogger("plenary.media.whip")
ANSWER_BUDGET = 7.5  # OBS's curl gives up after 8 s


class Publisher:
    """One publishing session's media: a reader per received track feeding a fan-out."""

    def __init__(self, slot: str, name: str, session: Session) -> None:
        self.slot = slot
        self.name = name
        self.session = session
        self.replaced = False
        self.video = Fanout("video", self.request_keyframe)
        self.audio = Fanout("audio")
        self.throttle = KeyframeThrottle(self._send_pli, 0.5)
        self.receiver = None
        self._readers: list[asyncio.Task[None]] = []

    def request_keyframe(self) -> None:
        self.throttle()

    def _send_pli(self) -> None:
        if self.receiver is not None:
            passthrough.request_keyframe(self.receiver)

    def attach(self, track: MediaStreamTrack, receiver: object) -> None:
        fanout = self.video if track.kind == "video" else self.audio
        if track.kind == "video":
            self.receiver = receiver  # type: ignore[assignment]
        # always read, even with nobody watching: aiortc's receive queue is unbounded
        self._readers.append(asyncio.create_task(self._read(track, fanout), name=f"whip-{self.slot}-{track.kind}"))

    async def _read(self, track: MediaStreamTrack, fanout: Fanout) -> None:
        try:
            while True:
                fanout.push(await track.recv())  # type: ignore[arg-type]  # packets: see passthrough.py
        except MediaStreamError:
            pass
        finally:
            fanout.end()

    async def stop(self) -> None:
        self.throttle.cancel()
        for task in self._readers:
            task.cancel()
        self.video.end()
        self.audio.end()


def prefer_h264(pc: RTCPeerConnection) -> None:
    codecs = RTCRtpSender.getCapabilities("video").codecs
    wanted = [c for c in codecs if c.mimeType.lower() == "video/h264"]
    rtx = [c for c in codecs if c.mimeType.lower() == "video/rtx"]
    for transceiver in pc.getTransceivers():
        if transceiver.kind == "video":
            transceiver.setCodecPreferences(wanted + rtx)


async def answer(pc: RTCPeerConnection, offer: str | None) -> str:
    """setRemote/createAnswer/setLocal with all candidates gathered, within OBS's time budget.

    ``offer`` None: the remote description is already set (WHEP adds its tracks in between).
    """
    async def run() -> str:
        if offer is not None:
            await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        prefer_h264(pc)
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    try:
        return await asyncio.wait_for(run(), ANSWER_BUDGET)
    except TimeoutError:
        raise Problem(503, "gathering_timeout", "the server could not gather its candidates in time",
                      headers={"Retry-After": "2"}) from None
    except ValueError as exc:
        raise Problem(400, "malformed_sdp", f"the offer was refused: {exc}") from None


async def post(request: Request) -> Response:
    event = event_of(request).id
    media = media_of(request)
    claims = await require(request, event, BACKSTAGE)
    slot = request.path_params.get("slot") or claims.sub
    if slot != claims.sub and claims.role not in STAFF:
        raise Problem(403, "forbidden", "a speaker token publishes only to its own slot")
    offer = await read_sdp(request)
    sdp.check(offer, publishing=True)
    stage = media.stage(event)
    current = media.slots.get((event, slot))
    if current is not None and not current.session.closed and current.session.claims.sub != claims.sub:
        raise Problem(409, "slot_taken", f"someone else is publishing as {slot!r}; they must stop first")
    if current is not None:
        current.replaced = True
        await media.end(current.session)
    pc = RTCPeerConnection(configuration(media.settings.ice_servers))
    session = Session("whip", event, claims, pc)
    name = claims.name if slot == claims.sub else slot
    publisher = Publisher(slot, name, session)
    session.extra["publisher"] = publisher
    media.slots[(event, slot)] = publisher
    media.sessions[session.id] = session

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        receiver = next((t.receiver for t in pc.getTransceivers() if t.receiver.track is track), None)
        publisher.attach(track, receiver)

    @pc.on("connectionstatechange")
    async def on_state() -> None:
        if pc.connectionState == "connected":
            await stage.add_publisher(slot, publisher)
        elif pc.connectionState in ("failed", "closed"):
            await media.end(session)

    try:
        local = await answer(pc, offer)
    except BaseException:
        await media.end(session)
        raise
    return answer_response(session, announce(local, media.announced), media.settings.ice_servers)


async def end_publisher(media: object, session: Session) -> None:
    publisher: Publisher = session.extra["publisher"]
    await publisher.stop()
    stage = media.stage(session.event)  # type: ignore[attr-defined]
    slots = media.slots  # type: ignore[attr-defined]
    if slots.get((session.event, publisher.slot)) is publisher:
        del slots[(session.event, publisher.slot)]
    if not publisher.replaced:
        await stage.remove_publisher(publisher.slot, publisher)


async def options(request: Request) -> Response:
    event_of(request)
    return options_response(request, media_of(request).settings.ice_servers)


async def resource(request: Request) -> Response:
    media = media_of(request)
    event = event_of(request).id
    session = media.sessions.get(request.path_params["id"])
    if request.method == "OPTIONS":
        return options_response(request, media.settings.ice_servers)
    kind = request.url.path.split("/")[1]
    if session is None or session.event != event or session.kind != kind:
        raise Problem(404, "unknown_session", "no such session on this node (it ended, or never existed)")
    roles = [Role.GUEST, Role.ATTENDEE, *BACKSTAGE] if session.kind == "whep" else list(BACKSTAGE)
    claims = await require(request, event, roles)
    if claims.sub != session.claims.sub and claims.role not in STAFF:
        raise Problem(403, "forbidden", "this session belongs to someone else")
    if request.method == "DELETE":
        await media.end(session)
        return Response(status_code=200, headers={"Access-Control-Allow-Origin": "*"})
    if request.method == "PATCH":
        return await patch(request, session)
    return Response(status_code=204)  # GET: 2xx with no content (RFC 9725 §4.1)


def routes() -> list[BaseRoute]:
    return [
        Route("/whip/{event}", post, methods=["POST"]),
        Route("/whip/{event}", options, methods=["OPTIONS"]),
        Route("/whip/{event}/r/{id}", resource, methods=["GET", "PATCH", "DELETE", "OPTIONS"]),
        Route("/whep/{event}/r/{id}", resource, methods=["GET", "PATCH", "DELETE", "OPTIONS"]),
        Route("/whip/{event}/{slot}", post, methods=["POST"]),
        Route("/whip/{event}/{slot}", options, methods=["OPTIONS"]),
    ]
