"""What WHIP and WHEP share: the per-node registry of media sessions and the HTTP details."""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCPeerConnection
from aiortc.sdp import candidate_from_sdp
from starlette.requests import Request
from starlette.responses import Response

from server.auth import Claims
from server.problems import Problem

log = logging.getLogger("plenary.media")

SDP = "application/sdp"
SDPFRAG = "application/trickle-ice-sdpfrag"
EXPOSE = "Location, Link, ETag, Accept-Patch, Accept-Post, Retry-After"


@dataclass(eq=False)
class Session:
    """One WHIP publisher or WHEP viewer on this node, reachable at its unguessable Location."""

    kind: str  # "whip" | "whep"
    event: str
    claims: Claims
    pc: RTCPeerConnection
    id: str = field(default_factory=lambda: secrets.token_urlsafe(32))  # 256 bits, RFC 9725 §5
    etag: str = field(default_factory=lambda: '"' + secrets.token_hex(8) + '"')
    closed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def location(self) -> str:
        return f"/{self.kind}/{self.event}/r/{self.id}"

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            await asyncio.wait_for(self.pc.close(), 5)
        except (TimeoutError, Exception):
            log.warning("closing %s session %s timed out", self.kind, self.id)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_sdp(request: Request) -> str:
    ctype = media_type(request)
    if ctype != SDP:
        raise Problem(415, "unsupported_media_type", f"send the offer as {SDP}, not {ctype or 'nothing'}",
                      headers={"Accept-Post": SDP})
    body = await request.body()
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "malformed_sdp", "the offer is not UTF-8 text") from None


def cors(headers: dict[str, str] | None = None) -> dict[str, str]:
    out = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": EXPOSE}
    out.update(headers or {})
    return out


def ice_links(ice_servers: tuple[str, ...]) -> dict[str, str]:
    links = [f'<{url}>; rel="ice-server"' for url in ice_servers if url.startswith(("stun:", "turn:", "turns:"))]
    return {"Link": ", ".join(links)} if links else {}


def options_response(request: Request, ice_servers: tuple[str, ...]) -> Response:
    headers = cors({"Accept-Post": SDP, "Access-Control-Allow-Methods": "POST, OPTIONS, PATCH, DELETE",
                    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match"})
    if "access-control-request-method" not in request.headers:
        headers.update(ice_links(ice_servers))  # never for a bare CORS preflight (§4.6)
    return Response(status_code=200, headers=headers)


def answer_response(session: Session, sdp: str, ice_servers: tuple[str, ...]) -> Response:
    headers = cors({"Location": session.location, "ETag": session.etag, "Accept-Patch": SDPFRAG})
    headers.update(ice_links(ice_servers))
    return Response(sdp, status_code=201, media_type=SDP, headers=headers)


async def patch(request: Request, session: Session) -> Response:
    """Trickle (204); an ICE restart gets 422 since aiortc cannot restart ICE (RFC 9725 §4.3.1)."""
    if media_type(request) != SDPFRAG:
        raise Problem(415, "unsupported_media_type", f"PATCH takes {SDPFRAG}")
    if_match = request.headers.get("if-match")
    if if_match and if_match.strip() not in ("*", session.etag):
        raise Problem(412, "etag_mismatch", "If-Match does not name this session's current ETag")
    try:
        frag = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "malformed_sdpfrag", "the fragment is not UTF-8 text") from None
    remote = session.pc.remoteDescription.sdp if session.pc.remoteDescription else ""
    current = {line.split(":", 1)[1].strip() for line in remote.splitlines() if line.startswith("a=ice-ufrag:")}
    candidates = []
    for raw in frag.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if line.startswith("a=ice-ufrag:") and line.split(":", 1)[1].strip() not in current:
            raise Problem(422, "ice_restart_unsupported",
                          "ICE restart is not supported; end the session (DELETE) and POST a new offer")
        if line.startswith("a=candidate:"):
            try:
                candidates.append(candidate_from_sdp(line[len("a="):].split(":", 1)[1]))
            except (ValueError, IndexError):
                raise Problem(400, "malformed_sdpfrag", f"bad candidate line: {line[:80]!r}") from None
        elif line and not line.startswith(("a=", "m=", "c=")):
            raise Problem(400, "malformed_sdpfrag", f"not an SDP fragment line: {line[:80]!r}")
    transceivers = session.pc.getTransceivers()
    for candidate in candidates:
        if candidate.ip.endswith(".local") or not transceivers:
            continue  # mDNS names cannot be resolved here; dropped silently as §4.3.2 allows
        candidate.sdpMid = transceivers[0].mid
        await session.pc.addIceCandidate(candidate)
    return Response(status_code=204, headers=cors())
