"""The chat capability: chat rooms, Q&A, reactions and moderation.

``counts(svc, event_id)`` is the small public function the attendance report reads.
"""

from server.chat.routes import install, routes, uninstall
from server.chat.stats import counts

__all__ = ["counts", "install", "routes", "uninstall"]
