"""The attendance capability: its model, its Redis keys and its routes."""

from server.attendance.routes import install, routes, uninstall

__all__ = ["install", "routes", "uninstall"]
