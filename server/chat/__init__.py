"""The chat capability: its model, its Redis keys and its routes."""

from server.chat.routes import install, routes, uninstall

__all__ = ["install", "routes", "uninstall"]
