"""Checks on WHIP/WHEP offers before any peer connection exists: codecs, track layout, direction.

The relay forwards what it receives, so every viewer must decode the publisher's codec, and the
program feed (speakers, clips, slate) is one stream: H.264 (packetization-mode=1) for video and
Opus for audio, the pair OBS, Chromium, Firefox, Safari and aiortc all speak. Anything else is
refused whole with a 422 naming what is supported (RFC 9725 §4.4: no partial answers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.problems import Problem

SUPPORTED = {"video": ["H264 (packetization-mode=1)"], "audio": ["opus"]}
SUPPORTED_TEXT = "video H264 with packetization-mode=1, audio Opus"
MAX_SDP = 64 * 1024


@dataclass
class Section:
    kind: str
    direction: str = "sendrecv"
    codecs: dict[int, str] = field(default_factory=dict)
    fmtp: dict[int, str] = field(default_factory=dict)
    port: int = 9

    def has(self, codec: str) -> bool:
        names = {pt: n.split("/")[0].upper() for pt, n in self.codecs.items()}
        if codec == "H264":
            return any(n == "H264" and "packetization-mode=1" in self.fmtp.get(pt, "")
                       for pt, n in names.items())
        return codec.upper() in names.values()


def parse(sdp: str) -> list[Section]:
    """The media sections of ``sdp``; raise a 400 problem if it is not an SDP offer."""
    if len(sdp) > MAX_SDP:
        raise Problem(413, "sdp_too_large", f"the offer is {len(sdp)} bytes; the limit is {MAX_SDP}")
    lines = [line.strip() for line in sdp.replace("\r\n", "\n").split("\n") if line.strip()]
    if not lines or lines[0] != "v=0":
        raise Problem(400, "malformed_sdp", "the body is not an SDP offer (it must start with v=0)")
    sections: list[Section] = []
    for line in lines:
        if line.startswith("m="):
            parts = line[2:].split()
            if len(parts) < 4 or not parts[1].isdigit():
                raise Problem(400, "malformed_sdp", f"bad media line: {line[:80]!r}")
            sections.append(Section(kind=parts[0], port=int(parts[1])))
        elif not sections:
            continue
        elif line in ("a=sendonly", "a=recvonly", "a=sendrecv", "a=inactive"):
            sections[-1].direction = line[2:]
        elif line.startswith(("a=rtpmap:", "a=fmtp:")):
            head, _, value = line.partition(" ")
            pt = head.split(":", 1)[1]
            if not pt.isdigit():
                raise Problem(400, "malformed_sdp", f"bad attribute: {line[:80]!r}")
            target = sections[-1].codecs if line.startswith("a=rtpmap:") else sections[-1].fmtp
            target[int(pt)] = value
    if not sections:
        raise Problem(400, "malformed_sdp", "the offer has no media section")
    return sections


def _unsupported(detail: str) -> Problem:
    return Problem(422, "unsupported_offer", f"{detail}; this server supports {SUPPORTED_TEXT}",
                   supported=SUPPORTED)


def check(sdp: str, *, publishing: bool) -> list[Section]:
    """Validate a WHIP (``publishing``) or WHEP offer; return its media sections."""
    sections = [s for s in parse(sdp) if s.kind in ("audio", "video")]
    wanted = ("sendonly", "sendrecv") if publishing else ("recvonly", "sendrecv")
    for kind in ("audio", "video"):
        of_kind = [s for s in sections if s.kind == kind and s.port != 0]
        if len(of_kind) > 1:
            raise _unsupported(f"the offer has {len(of_kind)} {kind} tracks; at most one is allowed")
    live = [s for s in sections if s.port != 0]
    if not any(s.kind == "video" for s in live) and not publishing:
        raise _unsupported("the offer has no video section")
    if not live:
        raise _unsupported("the offer has no audio or video")
    for section in live:
        if section.direction not in wanted:
            role = "a WHIP offer must send (sendonly)" if publishing else "a WHEP offer must receive (recvonly)"
            raise Problem(422, "wrong_direction", f"{role}; the {section.kind} section is {section.direction}")
        codec = "H264" if section.kind == "video" else "opus"
        if not section.has(codec):
            offered = sorted({n.split("/")[0] for n in section.codecs.values()
                              if n.split("/")[0].lower() not in ("rtx", "red", "ulpfec", "telephone-event")})
            raise _unsupported(f"the {section.kind} section offers {', '.join(offered) or 'no codec'}")
    return sections
