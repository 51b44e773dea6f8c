"""Prometheus metrics of the realtime hub (served at /metrics with the rest)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CONNECTIONS = Gauge("plenary_ws_connections", "WebSockets joined on this node")
FRAMES_OUT = Counter("plenary_ws_frames_out_total", "Frames sent to clients (each holds one or more pushes)")
PUSHES_OUT = Counter("plenary_ws_pushes_out_total", "Messages sent to clients")
EVICTED = Counter("plenary_ws_evicted_total", "Sockets closed as slow consumers (1013)")
RESUMED = Counter("plenary_ws_resumed_total", "Topic resumes served from history")
REFUSED = Counter("plenary_ws_refused_total", "Handshakes refused before accept", ["reason"])
OPS = Counter("plenary_ws_ops_total", "Client ops by result", ["op", "result"])
BUS_IN = Counter("plenary_bus_messages_total", "Messages received from the event bus")
BUS_REPAIRED = Counter("plenary_bus_repaired_total", "Pushes re-read from history after a bus gap")
