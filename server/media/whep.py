"""WHEP playback (draft-ietf-wish-whep): POST /whep/{event} plays the event's program feed.

Every viewer gets the same two proxies of the program (video, audio), so what is on stage can
change without renegotiating anyone. No picture at all (the stage is off air and there is no
slate, or the slate is still being generated at start-up) gets 409 with Retry-After, and players
back off from there.
"""

from __future__ import annotations

from aiortc import RTCPeerConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.auth import AUDIENCE, require
from server.media import passthrough, sdp
from server.media.ice import announce, configuration
from server.media.service import media_of
from server.media.session import SDP, Session, answer_response, cors, options_response, read_sdp
from server.media.whip import answer
from server.problems import Problem
from server.services import event_of

RETRY_AFTER = "2"


async def post(request: Request) -> Response:
    event = event_of(request).id
    media = media_of(request)
    claims = await require(request, event, AUDIENCE)
    offer = await read_sdp(request)
    sections = sdp.check(offer, publishing=False)
    stage = media.stage(event)
    if not stage.has_picture:
        raise Problem(409, "not_live", "nothing is on stage yet; retry later",
                      headers=cors({"Retry-After": RETRY_AFTER}))
    pc = RTCPeerConnection(configuration(media.settings.ice_servers))
    session = Session("whep", event, claims, pc)
    media.sessions[session.id] = session
    program = stage.program
    proxies = []

    @pc.on("connectionstatechange")
    async def on_state() -> None:
        if pc.connectionState in ("failed", "closed"):
            await media.end(session)

    async def add_tracks() -> None:
        for section in sections:
            if section.port == 0:
                continue
            proxy = (program.video if section.kind == "video" else program.audio).subscribe()
            proxies.append(proxy)
            sender = pc.addTrack(proxy)
            if section.kind == "video":
                passthrough.on_keyframe_request(sender, program.request_keyframe)

    session.extra["proxies"] = proxies
    try:
        from aiortc import RTCSessionDescription

        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await add_tracks()
        local = await answer(pc, None)
    except BaseException:
        await media.end(session)
        raise
    return answer_response(session, announce(local, media.announced), media.settings.ice_servers)


async def head(request: Request) -> Response:
    event_of(request)
    return Response(status_code=200, headers=cors({"Content-Type": SDP}))


async def options(request: Request) -> Response:
    event_of(request)
    return options_response(request, media_of(request).settings.ice_servers)


async def end_viewer(session: Session) -> None:
    for proxy in session.extra.get("proxies", []):
        proxy.stop()


def routes() -> list[BaseRoute]:
    return [
        Route("/whep/{event}", post, methods=["POST"]),
        Route("/whep/{event}", head, methods=["HEAD", "GET"]),
        Route("/whep/{event}", options, methods=["OPTIONS"]),
    ]
