"""The media capability: its model, its Redis keys and its routes."""

from server.media.routes import install, routes, uninstall

__all__ = ["install", "routes", "uninstall"]
