# One image for every app node. Build: docker build -t plenary .
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY server ./server
COPY bench ./bench
RUN pip install --no-cache-dir .
COPY agenda ./agenda
COPY static ./static
ENV PLENARY_HOST=0.0.0.0 PLENARY_PORT=8000 PLENARY_AGENDA_DIR=/app/agenda PLENARY_VAR_DIR=/data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/readyz || exit 1
STOPSIGNAL SIGTERM
CMD ["plenary", "serve"]
