"""HTTP routes and hub wiring of the chat capability."""

from __future__ import annotations

from starlette.routing import BaseRoute

from server.services import Services


def routes() -> list[BaseRoute]:
    return []


async def install(svc: Services) -> None:
    """Declare topics and ops on the hub."""


async def uninstall(svc: Services) -> None:
    """Stop background tasks."""
