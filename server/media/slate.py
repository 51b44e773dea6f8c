"""The slate: what the program shows when nobody is on stage ("starting soon", "break", or just
the event's title). Each is a two-second test-pattern clip generated once at start-up and looped;
like a recorded message it is encoded once and forwarded to every viewer as is."""

from __future__ import annotations

from pathlib import Path

from server.media import clips

LABELS = {"starting soon": "STARTING SOON", "break": "BREAK", "title": ""}


def path_for(clip_dir: Path, event: str, label: str) -> Path:
    return clip_dir / f"slate-{event}-{label.replace(' ', '-')}.mp4"


def build(clip_dir: Path, event: str, title: str, subtitle: str | None) -> dict[str, clips.Clip]:
    """Generate (if missing) and load the slates of one event. Runs in a thread."""
    out: dict[str, clips.Clip] = {}
    for label, caption in LABELS.items():
        path = path_for(clip_dir, event, label)
        if not path.exists():
            lines = [title, caption or (subtitle or "")]
            clips.generate(path, [line for line in lines if line], seconds=2.0, hue="slate", bitrate=300_000)
        out[label] = clips.load(path)
    return out
