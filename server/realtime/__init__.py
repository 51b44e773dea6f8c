"""The realtime hub: one WebSocket per client, fan-out through the Redis bus, resume, backpressure."""
