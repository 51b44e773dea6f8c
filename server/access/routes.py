"""Organizer endpoints for access: mint tokens, change or revoke a role, list the changes.

- ``POST /api/events/{event}/tokens`` {"role", "name", "sub"?, "ttl_hours"?, "traits"?} -> 201
  {"token", "sub", "role", "link"}: the link opens the page for that role with the token in the
  fragment (never sent to the server, never logged).
- ``PUT /api/events/{event}/roles/{user}`` {"role": <role> | "revoked"}: from now on that user
  acts with this role (or not at all) on every node; their live sockets are closed with 4002 and
  the page client rejoins with the new role at once.
- ``DELETE /api/events/{event}/roles/{user}``: back to the role in their token.
- ``GET /api/events/{event}/roles``: the changes in force.
"""

from __future__ import annotations

import time
from typing import Annotated, Literal, cast

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.auth import MINTABLE_ROLES, REVOKED, Role, mint, require
from server.problems import Problem, convert, json_response, read_json
from server.realtime.close_codes import Close
from server.services import Services, event_of, services
from server.store.keys import Keys

ORGANIZER = (Role.ORGANIZER,)
PAGE = {"attendee": "/", "speaker": "/speaker", "moderator": "/moderator", "organizer": "/organizer",
        "checkin": "/checkin"}
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
UserId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.:@-]{1,100}$")]
MintableRole = Literal["attendee", "speaker", "moderator", "organizer", "checkin"]


class TokenRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: MintableRole
    name: Name
    sub: UserId | None = None
    ttl_hours: Annotated[float, msgspec.Meta(gt=0, le=24 * 30)] = 24
    traits: dict[Annotated[str, msgspec.Meta(max_length=40)], Annotated[str, msgspec.Meta(max_length=80)]] = {}


class RoleChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: Literal["guest", "attendee", "speaker", "moderator", "organizer", "checkin", "revoked"]


async def mint_token(request: Request) -> Response:
    event = event_of(request)
    await require(request, event.id, ORGANIZER)
    body: TokenRequest = convert(await read_json(request, max_bytes=4096), TokenRequest)
    svc = services(request)
    assert svc.settings.secret is not None
    role = Role(body.role)
    assert role in MINTABLE_ROLES
    token = mint(svc.settings.secret, event=event.id, role=role, name=" ".join(body.name.split()),
                 ttl=body.ttl_hours * 3600, sub=body.sub, traits=dict(body.traits) or None)
    claims_sub = body.sub or _sub_of(token)
    link = f"{svc.settings.base_url}{PAGE[body.role]}?event={event.id}#token={token}"
    return json_response({"token": token, "sub": claims_sub, "role": body.role, "link": link}, status=201)


def _sub_of(token: str) -> str:
    import jwt

    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


async def change_role(request: Request) -> Response:
    event = event_of(request)
    claims = await require(request, event.id, ORGANIZER)
    user = _user(request)
    if user == claims.sub:
        raise Problem(409, "self_change", "organizers cannot change their own role")
    body: RoleChange = convert(await read_json(request, max_bytes=1024), RoleChange)
    svc = services(request)
    await svc.redis.hset(Keys(event.id).roles, user, body.role)
    await svc.redis.expire(Keys(event.id).roles, svc.key_ttl)
    await svc.hub.kick(event.id, user, Close.ROLE_CHANGED, "your role changed; reconnecting")
    return json_response({"user": user, "role": body.role, "by": claims.sub, "at": int(time.time() * 1000)})


async def restore_role(request: Request) -> Response:
    event = event_of(request)
    await require(request, event.id, ORGANIZER)
    user = _user(request)
    svc = services(request)
    if not await svc.redis.hdel(Keys(event.id).roles, user):
        raise Problem(404, "not_found", f"{user!r} has no role change")
    await svc.hub.kick(event.id, user, Close.ROLE_CHANGED, "your role changed; reconnecting")
    return json_response({"user": user, "role": None})


async def list_roles(request: Request) -> Response:
    event = event_of(request)
    await require(request, event.id, ORGANIZER)
    raw = cast(dict[bytes, bytes], await services(request).redis.hgetall(Keys(event.id).roles))
    return json_response({k.decode(): v.decode() for k, v in raw.items()})


def _user(request: Request) -> str:
    user = str(request.path_params["user"])
    try:
        return msgspec.convert(user, UserId)
    except msgspec.ValidationError:
        raise Problem(422, "invalid_request", "user ids are 1-100 letters, digits and _.:@-") from None


def routes() -> list[BaseRoute]:
    return [
        Route("/api/events/{event}/tokens", mint_token, methods=["POST"]),
        Route("/api/events/{event}/roles", list_roles, methods=["GET"]),
        Route("/api/events/{event}/roles/{user}", change_role, methods=["PUT"]),
        Route("/api/events/{event}/roles/{user}", restore_role, methods=["DELETE"]),
    ]


async def install(svc: Services) -> None:
    """Nothing to declare on the hub: role changes reach sockets through ``hub.kick``."""
    assert REVOKED == "revoked"


async def uninstall(svc: Services) -> None:
    """No background work."""
