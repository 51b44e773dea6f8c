"""The agenda capability: event files, the segment state machine, moderator control, formats."""

from server.agenda.routes import install, routes, uninstall

__all__ = ["install", "routes", "uninstall"]
