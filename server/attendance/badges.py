"""Signed QR badges: what a door scanner reads, and ``plenary badges`` that prints them.

A badge is ``PB1.<payload>.<mac>``: the payload is base64url of the JSON array
``[event, attendee id, name, issued-at]`` and the MAC is the first 16 bytes of HMAC-SHA256 over
``PB1.<payload>`` with a key derived from ``PLENARY_SECRET``. It is short enough for a small QR
code, checkable without a lookup, and useless for another event. A QR code is a bearer credential
anyone can photograph, so replay protection is the check-in itself: one attendee id checks in once.

The attendee id is the ``sub`` of the attendee's token too (``plenary badges`` writes a join link
minted with it), so a person who checks in and later watches online is one person in "reached".
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import hmac
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import msgspec
import segno

VERSION = "PB1"
MAX_BADGE = 512
MAC_BYTES = 16
CSV_COLUMNS = ["id", "name", "organisation", "country", "badge", "file", "link"]


class BadgeError(Exception):
    """The scanned text is not a valid badge for this event; ``str()`` says why, for the door staff."""


@dataclass(frozen=True)
class Badge:
    event: str
    attendee: str
    name: str
    issued_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(secret: str) -> bytes:
    # a key of its own, so a badge MAC can never be mistaken for any other use of the secret
    return hmac.new(secret.encode(), b"plenary-badge-v1", hashlib.sha256).digest()


def _mac(secret: str, signed: str) -> str:
    return _b64(hmac.new(_key(secret), signed.encode(), hashlib.sha256).digest()[:MAC_BYTES])


def sign(secret: str, event: str, attendee: str, name: str, issued_at: int | None = None) -> str:
    body = _b64(msgspec.json.encode([event, attendee, name, int(issued_at or time.time())]))
    signed = f"{VERSION}.{body}"
    return f"{signed}.{_mac(secret, signed)}"


def verify(secret: str, event: str, text: str) -> Badge:
    """The badge ``text`` carries, or :class:`BadgeError` (forged, damaged, or for another event)."""
    text = text.strip()
    if not text or len(text) > MAX_BADGE:
        raise BadgeError("this is not a Plenary badge")
    parts = text.split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        raise BadgeError("this is not a Plenary badge")
    signed = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_mac(secret, signed), parts[2]):
        raise BadgeError("the badge signature does not match: it was altered or forged")
    try:
        ev, attendee, name, issued = msgspec.json.decode(_unb64(parts[1]), type=tuple[str, str, str, int])
    except (ValueError, msgspec.DecodeError, msgspec.ValidationError):
        raise BadgeError("the badge content is damaged") from None
    if ev != event:
        raise BadgeError(f"this badge is for another event ({ev})")
    return Badge(ev, attendee, name, issued)


def new_attendee_id(prefix: str = "att") -> str:
    return f"{prefix}-{secrets.token_urlsafe(9)}"


def svg(badge_text: str, name: str, event_title: str, organisation: str = "", country: str = "") -> str:
    """A printable 90 x 130 mm badge: the event, the name large, the QR code below."""
    qr = segno.make(badge_text, error="m")
    uri = qr.svg_data_uri(scale=4, border=2)
    subtitle = " · ".join(x for x in (organisation, country) if x)
    text = '<text x="180" font-family="sans-serif" text-anchor="middle" '
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="90mm" height="130mm" viewBox="0 0 360 520">'
        '<rect width="360" height="520" fill="#fff" stroke="#222"/>'
        f'{text}y="40" font-size="16">{escape(event_title)}</text>'
        f'{text}y="110" font-size="30" font-weight="bold">{escape(name)}</text>'
        f'{text}y="145" font-size="16">{escape(subtitle)}</text>'
        f'<image x="50" y="190" width="260" height="260" href="{uri}"/>'
        "</svg>\n"
    )


def _registrants(args: argparse.Namespace) -> list[dict[str, str]]:
    if args.count is not None:
        if args.count <= 0 or args.count > 100_000:
            raise ValueError("--count must be between 1 and 100000")
        width = len(str(args.count))
        return [{"name": f"Attendee {i:0{width}d}"} for i in range(1, args.count + 1)]
    people: list[dict[str, str]] = []
    with open(args.csv, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "name" not in [f.strip().lower() for f in reader.fieldnames]:
            raise ValueError(f"{args.csv}: needs a header row with a 'name' column")
        for line, row in enumerate(reader, start=2):
            clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            if not clean.get("name"):
                raise ValueError(f"{args.csv}:{line}: name is empty")
            people.append(clean)
    return people


def cli(args: argparse.Namespace) -> int:
    """``plenary badges --event ID (--csv FILE | --count N) --out DIR``: SVG badges and badges.csv."""
    from server.agenda.files import load_events
    from server.auth import Role, mint
    from server.config import ConfigError, ensure_secret, load_settings

    try:
        settings = ensure_secret(load_settings())
        events = load_events(Path(settings.agenda_dir))
        if args.event not in events:
            raise ValueError(f"there is no event {args.event!r} (known: {', '.join(sorted(events))})")
        people = _registrants(args)
    except (ConfigError, OSError, ValueError) as exc:
        print(f"plenary badges: {exc}", file=sys.stderr)
        return 2
    assert settings.secret is not None
    event = events[args.event]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    rows = []
    for person in people:
        attendee = person.get("id") or new_attendee_id()
        if attendee in seen:
            print(f"plenary badges: attendee id {attendee!r} appears twice", file=sys.stderr)
            return 2
        seen.add(attendee)
        traits = {k: person[k] for k in ("country", "organisation") if person.get(k)}
        text = sign(settings.secret, event.id, attendee, person["name"])
        filename = f"badge-{_safe(attendee)}.svg"
        drawn = svg(text, person["name"], event.info.title, traits.get("organisation", ""),
                    traits.get("country", ""))
        (out / filename).write_text(drawn, encoding="utf-8")
        token = mint(settings.secret, event=event.id, role=Role.ATTENDEE, name=person["name"], sub=attendee,
                     traits=traits or None, ttl=14 * 86400)
        rows.append({"id": attendee, "name": person["name"], "organisation": traits.get("organisation", ""),
                     "country": traits.get("country", ""), "badge": text, "file": filename,
                     "link": f"{settings.base_url}/?event={event.id}#token={token}"})
    with (out / "badges.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} badges and badges.csv to {out}")
    return 0


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:80]
