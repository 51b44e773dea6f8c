"""ICE settings of the media relay: which STUN/TURN servers, which addresses are gathered.

- ``PLENARY_ICE_SERVERS`` empty means *no* STUN server at all. aiortc falls back to Google's
  public STUN server when ``iceServers`` is None, so :func:`configuration` always passes a list.
- ``PLENARY_ICE_ADDRESSES`` restricts the host candidates. aioice has no option for it and leaves
  127.0.0.1 out by default, so :func:`restrict_host_addresses` replaces
  ``aioice.ice.get_host_addresses`` (a module global ``Connection.gather_candidates`` calls) by
  one returning the configured local addresses. With ``127.0.0.1`` (the tests) no other address is
  ever gathered or announced. An entry ``LOCAL=PUBLIC`` gathers on LOCAL and announces PUBLIC in
  the answers (like mediasoup's announcedIp, for a relay behind 1:1 NAT): :func:`announce` rewrites
  the candidate lines; the NAT forwards PUBLIC to LOCAL, where aioice answers the checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

_ORIGINAL = aioice.ice.get_host_addresses


def configuration(ice_servers: Iterable[str]) -> RTCConfiguration:
    servers = [RTCIceServer(urls=url) for url in ice_servers]
    return RTCConfiguration(iceServers=servers)  # an empty list: no STUN, never the public fallback


def parse_addresses(entries: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """``["127.0.0.1", "10.0.0.5=203.0.113.7"]`` -> (gather on, {local: announced})."""
    local: list[str] = []
    announced: dict[str, str] = {}
    for entry in entries:
        here, _, public = entry.partition("=")
        local.append(here.strip())
        if public.strip():
            announced[here.strip()] = public.strip()
    return local, announced


def restrict_host_addresses(addresses: Iterable[str]) -> None:
    """Gather host candidates on exactly ``addresses`` (process-wide); empty restores aioice's default."""
    wanted = list(addresses)
    if not wanted:
        aioice.ice.get_host_addresses = _ORIGINAL
        return

    def fixed(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in wanted if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = fixed


def announce(sdp: str, announced: dict[str, str]) -> str:
    """Replace gathered local addresses by the public ones in ``a=candidate`` lines."""
    if not announced:
        return sdp

    def swap(match: re.Match[str]) -> str:
        return match.group(1) + announced.get(match.group(2), match.group(2)) + match.group(3)

    return re.sub(r"(a=candidate:\S+ \d+ \S+ \d+ )(\S+)( \d+ typ )", swap, sdp)
