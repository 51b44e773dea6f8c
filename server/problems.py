"""RFC 9457 problem details: the one error shape every HTTP route returns.

Raise :class:`Problem` anywhere in a request; the handler installed by ``server.app``
renders it as ``application/problem+json`` with a stable ``code`` clients can switch on.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An HTTP error with a machine-readable ``code`` and a human ``detail``."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or code.replace("_", " ")
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {
            "type": f"https://plenary.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
            **self.extra,
        }

    def response(self) -> Response:
        return Response(
            msgspec.json.encode(self.body()),
            status_code=self.status,
            media_type=PROBLEM_JSON,
            headers=self.headers,
        )


async def problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.response()


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON through msgspec: one pass, and it knows Structs and datetimes."""
    return Response(msgspec.json.encode(data), status_code=status, media_type="application/json", headers=headers)


async def read_json(request: Request, max_bytes: int = 64 * 1024) -> Any:
    """Parse a JSON request body, or raise a 4xx problem that says what was wrong."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise Problem(415, "unsupported_media_type", f"expected application/json, got {ctype or 'nothing'}")
    body = await request.body()
    if len(body) > max_bytes:
        raise Problem(413, "payload_too_large", f"body is {len(body)} bytes; the limit is {max_bytes}")
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise Problem(400, "malformed_json", f"body is not valid JSON: {exc}") from None


def convert(data: Any, type_: type[Any], what: str = "body") -> Any:
    """Validate decoded JSON against a msgspec type; errors name the field."""
    try:
        return msgspec.convert(data, type_)
    except msgspec.ValidationError as exc:
        raise Problem(422, "invalid_request", f"{what}: {exc}") from None
