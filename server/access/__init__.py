"""Access: organizers mint links for people, and change or revoke a person's role while live."""

from server.access.routes import install, routes, uninstall

__all__ = ["install", "routes", "uninstall"]
