"""Tokens and roles: who may do what, checked server side on every action.

Tokens are JWTs signed with HS256 (``sub``, ``name``, ``role``, ``event``, ``exp``, optional
``traits`` such as country or organisation). Only HS256 is accepted, so ``alg: none`` and
algorithm-confusion tokens fail verification. Guests get a short server-minted token with role
``guest``. Deny by default: a caller holds exactly the powers of its role, for its own event.
"""

from __future__ import annotations

import enum
import secrets
import time
from collections.abc import Iterable
from typing import Any

import jwt
import msgspec
from redis.asyncio import Redis
from starlette.requests import HTTPConnection

from server.problems import Problem
from server.store.keys import Keys

ALGORITHM = "HS256"


class Role(enum.StrEnum):
    GUEST = "guest"
    ATTENDEE = "attendee"
    SPEAKER = "speaker"
    MODERATOR = "moderator"
    ORGANIZER = "organizer"
    CHECKIN = "checkin"


MINTABLE_ROLES = (Role.ATTENDEE, Role.SPEAKER, Role.MODERATOR, Role.ORGANIZER, Role.CHECKIN)
AUDIENCE = frozenset({Role.GUEST, Role.ATTENDEE, Role.SPEAKER, Role.MODERATOR, Role.ORGANIZER})
STAFF = frozenset({Role.MODERATOR, Role.ORGANIZER})
BACKSTAGE = frozenset({Role.SPEAKER, Role.MODERATOR, Role.ORGANIZER})


class AuthError(Exception):
    """A token was missing, malformed, forged, expired, or for another event. ``code`` is stable."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class Claims(msgspec.Struct, frozen=True):
    sub: str
    name: str
    role: Role
    event: str
    exp: int
    traits: dict[str, str] = {}

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


def mint(
    secret: str,
    *,
    event: str,
    role: Role | str,
    name: str,
    ttl: float = 12 * 3600,
    sub: str | None = None,
    traits: dict[str, str] | None = None,
) -> str:
    role = Role(role)
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": sub or f"{role.value}-{secrets.token_urlsafe(9)}",
        "name": name,
        "role": role.value,
        "event": event,
        "iat": now,
        "exp": now + int(ttl),
    }
    if traits:
        payload["traits"] = traits
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def verify(secret: str, token: str, event: str) -> Claims:
    """Check signature, expiry, shape and event; raise :class:`AuthError` otherwise."""
    try:
        payload = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "role", "event", "exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("token_expired", "the token has expired; ask for a new link") from None
    except jwt.InvalidTokenError as exc:
        raise AuthError("invalid_token", f"the token is not valid: {exc}") from None
    payload.setdefault("name", payload["sub"])
    try:
        claims = msgspec.convert(
            {k: payload[k] for k in ("sub", "name", "role", "event", "exp", "traits") if k in payload}, Claims
        )
    except msgspec.ValidationError as exc:
        raise AuthError("invalid_token", f"the token's claims are not valid: {exc}") from None
    if claims.event != event:
        raise AuthError("wrong_event", f"the token is for event {claims.event!r}, not {event!r}")
    return claims


def bearer(conn: HTTPConnection) -> str | None:
    """The token from ``Authorization: Bearer x`` or a bare ``Authorization: x`` (OBS and others)."""
    header = conn.headers.get("authorization", "").strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    return header if not rest else None


REVOKED = "revoked"


async def effective(redis: Redis, claims: Claims) -> Claims | None:
    """The claims with an organizer's role change applied; None when access was revoked.

    Tokens cannot be recalled, so a change of role lives in Redis (``Keys.roles``) and is
    consulted on every HTTP call and every join; live sockets are told by a reconnect (4002).
    """
    override = await redis.hget(Keys(claims.event).roles, claims.sub)
    if override is None:
        return claims
    value = override.decode() if isinstance(override, bytes) else str(override)
    if value == REVOKED:
        return None
    return msgspec.structs.replace(claims, role=Role(value))


async def require(conn: HTTPConnection, event: str, roles: Iterable[Role]) -> Claims:
    """Authenticate an HTTP request for ``event`` and check its role: 401 or 403 problems otherwise."""
    token = bearer(conn)
    challenge = {"WWW-Authenticate": 'Bearer realm="plenary"'}
    if token is None:
        raise Problem(401, "unauthorized", "this needs a token: send Authorization: Bearer <token>", headers=challenge)
    secret: str = conn.app.state.settings.secret
    try:
        claims = verify(secret, token, event)
    except AuthError as exc:
        status = 403 if exc.code == "wrong_event" else 401
        raise Problem(status, exc.code, exc.detail, headers=challenge if status == 401 else None) from None
    current = await effective(conn.app.state.services.redis, claims)
    if current is None:
        raise Problem(403, "revoked", "an organizer revoked this access")
    claims = current
    allowed = frozenset(roles)
    if claims.role not in allowed:
        wanted = ", ".join(sorted(r.value for r in allowed))
        raise Problem(403, "forbidden", f"role {claims.role.value} may not do this; it needs one of: {wanted}")
    return claims
