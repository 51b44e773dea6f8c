"""Real parts for tests: Redis, uvicorn processes, WebSocket clients."""
