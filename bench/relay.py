"""Relay capacity: ``python -m bench relay --viewers N --resolution 360p|720p --seconds S``.

Three parts on 127.0.0.1 only (no STUN, host candidates pinned to loopback):

- a *source clip* encoded once (H.264, CBR at the resolution's bitrate, a keyframe a second,
  moving test pattern plus noise so the encoder really spends the bits);
- the *relay*, a child process running Plenary's relay code (``server.media.passthrough`` +
  ``server.media.relay``: one reader for the publisher, one proxy per viewer, PLIs throttled);
- the *load generator* (this process): a publisher sending the pre-encoded clip (no encoder in the
  loop) and N viewers whose receivers only count frames (no decoder), so the generator stays light.

The same run then measures the baseline, aiortc's plain ``MediaRelay`` (the relay decodes, and every
viewer's sender encodes with libx264), with at most ``--baseline-viewers`` viewers because each one
costs most of a core at 720p. Relay CPU is the child's CPU time over wall time (all threads);
``us_per_packet`` is relay CPU per RTP packet sent to viewers. ``--profile`` adds the relay's top
functions by own time (cProfile) to the result. One JSON line is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import fractions
import json
import os
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

RESOLUTIONS = {"360p": (640, 360, 1_000_000), "720p": (1280, 720, 2_500_000)}
FPS = 30


def _restrict() -> None:
    from server.media.ice import restrict_host_addresses

    restrict_host_addresses(["127.0.0.1"])


def make_clip(path: Path, width: int, height: int, bitrate: int, seconds: float = 4.0) -> None:
    import av
    import av.filter

    graph = av.filter.Graph()
    src = graph.add("testsrc2", f"size={width}x{height}:rate={FPS}:duration={seconds}")
    noise = graph.add("noise", "alls=12:allf=t")
    fmt = graph.add("format", "yuv420p")
    sink = graph.add("buffersink")
    src.link_to(noise)
    noise.link_to(fmt)
    fmt.link_to(sink)
    graph.configure()
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = bitrate
        kbps = bitrate // 1000
        stream.options = {"preset": "ultrafast", "tune": "zerolatency", "profile": "baseline", "g": str(FPS),
                          "bf": "0", "x264-params": f"nal-hrd=cbr:vbv-maxrate={kbps}:vbv-bufsize={kbps}"}
        index = 0
        while True:
            try:
                frame = sink.pull()
            except (av.error.EOFError, av.error.BlockingIOError):
                break
            frame.pts, frame.time_base = index, fractions.Fraction(1, FPS)
            index += 1
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


# --------------------------------------------------------------------------------------- relay child
async def run_relay(mode: str, port: int, profile: bool) -> None:
    from aiortc import RTCPeerConnection, RTCSessionDescription
    from aiortc.contrib.media import MediaRelay

    from server.media import passthrough
    from server.media.ice import configuration
    from server.media.relay import Fanout, KeyframeThrottle
    from server.media.whip import prefer_h264

    _restrict()
    import aiortc.codecs.h264 as h264

    if mode == "passthrough":
        passthrough.install()
    state: dict[str, Any] = {"fanout": None, "track": None, "receiver": None}
    ready = asyncio.Event()
    pcs: list[Any] = []
    senders: list[Any] = []
    media_relay = MediaRelay()
    tasks: set[asyncio.Future[None]] = set()  # readers, kept referenced for the life of the run
    throttle = KeyframeThrottle(lambda: state["receiver"] and passthrough.request_keyframe(state["receiver"]))

    async def read(track: Any, fanout: Any) -> None:
        try:
            while True:
                fanout.push(await track.recv())
        except Exception:
            pass

    async def drain(track: Any) -> None:
        try:
            while True:
                await track.recv()
        except Exception:
            pass

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        msg = json.loads(await reader.readline())
        pc = RTCPeerConnection(configuration([]))
        pcs.append(pc)
        if msg["role"] == "pub":
            h264.DEFAULT_BITRATE = h264.MIN_BITRATE = h264.MAX_BITRATE = msg["bitrate"]  # baseline encoders

            @pc.on("track")
            def on_track(track: Any) -> None:
                state["track"] = track
                state["receiver"] = next(t.receiver for t in pc.getTransceivers() if t.receiver.track is track)
                if mode == "passthrough":
                    state["fanout"] = Fanout("video", throttle)
                    tasks.add(asyncio.ensure_future(read(track, state["fanout"])))
                else:
                    tasks.add(asyncio.ensure_future(drain(media_relay.subscribe(track, buffered=False))))
                ready.set()

            await pc.setRemoteDescription(RTCSessionDescription(msg["sdp"], "offer"))
        else:
            await asyncio.wait_for(ready.wait(), 30)
            await pc.setRemoteDescription(RTCSessionDescription(msg["sdp"], "offer"))
            if mode == "passthrough":
                sender = pc.addTrack(state["fanout"].subscribe())
                passthrough.on_keyframe_request(sender, throttle)
            else:
                sender = pc.addTrack(media_relay.subscribe(state["track"], buffered=False))
            senders.append(sender)
        prefer_h264(pc)
        await pc.setLocalDescription(await pc.createAnswer())
        writer.write((json.dumps({"sdp": pc.localDescription.sdp}) + "\n").encode())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print(json.dumps({"event": "listening"}), flush=True)
    loop = asyncio.get_running_loop()
    profiler = cProfile.Profile() if profile else None
    marks: dict[str, float] = {}

    async def packets_sent() -> int:
        total = 0
        for sender in senders:
            for stat in (await sender.getStats()).values():
                if getattr(stat, "type", "") == "outbound-rtp":
                    total += stat.packetsSent
        return total

    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if line == "start":
            marks = {"cpu": time.process_time(), "wall": time.monotonic(), "packets": await packets_sent()}
            if profiler:
                profiler.enable()
        elif line == "stop":
            if profiler:
                profiler.disable()
            cpu = time.process_time() - marks["cpu"]
            wall = time.monotonic() - marks["wall"]
            out: dict[str, Any] = {"event": "stats", "cpu_cores": cpu / wall, "cpu_s": cpu,
                                   "packets": await packets_sent() - marks["packets"], "wall": wall,
                                   "pli_sent": throttle.sent, "kf_requests": throttle.requested}
            if profiler:
                stats = pstats.Stats(profiler)
                rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:12]  # type: ignore[attr-defined]
                out["profile_top"] = [f"{Path(f).name}:{ln} {fn} {tt:.2f}s"
                                      for (f, ln, fn), (_, _, tt, _, _) in rows]
            print(json.dumps(out), flush=True)
        elif line in ("quit", ""):
            break
    server.close()
    await asyncio.gather(*(pc.close() for pc in pcs), return_exceptions=True)


# --------------------------------------------------------------------------------------- load generator
class CountingDecoder:
    def __init__(self, codec: Any) -> None:
        pass

    def decode(self, encoded_frame: Any) -> list[int]:
        return [len(encoded_frame.data)]


async def load(mode: str, port: int, clip: Path, viewers: int, seconds: float, bitrate: int,
               child: subprocess.Popen[str]) -> dict[str, Any]:
    import aiortc.rtcrtpreceiver
    from aiortc import RTCPeerConnection, RTCSessionDescription

    from server.media.clips import FilePlayer
    from server.media.clips import load as load_clip
    from server.media.ice import configuration
    from server.media.whip import prefer_h264

    _restrict()
    aiortc.rtcrtpreceiver.get_decoder = CountingDecoder  # type: ignore[attr-defined]

    async def signal(role: str, pc: Any) -> None:
        await pc.setLocalDescription(await pc.createOffer())
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        hello = {"role": role, "sdp": pc.localDescription.sdp, "bitrate": bitrate}
        writer.write((json.dumps(hello) + "\n").encode())
        await writer.drain()
        answer = json.loads(await asyncio.wait_for(reader.readline(), 30))
        writer.close()
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))

    player = FilePlayer(load_clip(clip), loop=True)
    player.start()
    pub = RTCPeerConnection(configuration([]))
    pub.addTransceiver(player.video.subscribe(), direction="sendonly")
    prefer_h264(pub)
    await signal("pub", pub)
    counts = [{"frames": 0, "bytes": 0} for _ in range(viewers)]
    window = {"on": False}

    async def consume(i: int, track: Any) -> None:
        try:
            while True:
                size = await track.recv()
                if window["on"]:
                    counts[i]["frames"] += 1
                    counts[i]["bytes"] += size
        except Exception:
            pass

    subs = []
    for i in range(viewers):
        pc = RTCPeerConnection(configuration([]))
        pc.addTransceiver("video", direction="recvonly")
        prefer_h264(pc)
        pc.on("track", lambda track, i=i: asyncio.ensure_future(consume(i, track)))
        await signal("sub", pc)
        subs.append(pc)
    await asyncio.sleep(3)  # warm-up: every viewer past its first keyframe
    child.stdin.write("start\n")  # type: ignore[union-attr]
    child.stdin.flush()  # type: ignore[union-attr]
    window["on"] = True
    started = time.monotonic()
    await asyncio.sleep(seconds)
    window["on"] = False
    wall = time.monotonic() - started
    child.stdin.write("stop\n")  # type: ignore[union-attr]
    child.stdin.flush()  # type: ignore[union-attr]
    stats = await asyncio.get_running_loop().run_in_executor(None, _read_event, child, "stats", 30)
    for pc in [pub, *subs]:
        await pc.close()
    await player.stop()
    fps = [c["frames"] / wall for c in counts]
    kbps = [c["bytes"] * 8 / wall / 1000 for c in counts]
    packets_per_viewer_s = stats["packets"] / max(1, viewers) / stats["wall"]
    us = stats["cpu_s"] * 1e6 / max(1, stats["packets"])
    return {
        "mode": mode, "viewers": viewers, "relay_cpu_cores": round(stats["cpu_cores"], 3),
        "fps_min": round(min(fps), 1), "fps_median": round(statistics.median(fps), 1),
        "bitrate_kbps": round(statistics.median(kbps)), "packets_per_viewer_s": round(packets_per_viewer_s, 1),
        "us_per_packet": round(us, 1),
        "viewers_per_core": round(viewers / stats["cpu_cores"], 1) if stats["cpu_cores"] else None,
        "pli_sent": stats["pli_sent"], "profile_top": stats.get("profile_top"),
    }


def _read_event(child: subprocess.Popen[str], event: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = child.stdout.readline()  # type: ignore[union-attr]
        if not line:
            break
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("event") == event:
            return msg  # type: ignore[no-any-return]
    raise TimeoutError(f"relay child sent no {event!r}")


def one_run(mode: str, viewers: int, seconds: float, resolution: str, clip: Path, profile: bool) -> dict[str, Any]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    cmd = [sys.executable, "-m", "bench.relay", "--child", mode, "--port", str(port)]
    if profile:
        cmd.append("--profile")
    child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                             cwd=Path(__file__).resolve().parent.parent)
    try:
        _read_event(child, "listening", 30)
        bitrate = RESOLUTIONS[resolution][2]
        return asyncio.run(asyncio.wait_for(load(mode, port, clip, viewers, seconds, bitrate, child),
                                            seconds + 60 + viewers))
    finally:
        try:
            child.stdin.write("quit\n")  # type: ignore[union-attr]
            child.stdin.flush()  # type: ignore[union-attr]
            child.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            child.kill()
            child.wait(5)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench relay", description=__doc__.split("\n\n")[0])
    ap.add_argument("--viewers", type=int, default=16)
    ap.add_argument("--resolution", choices=sorted(RESOLUTIONS), default="720p")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--baseline-viewers", type=int, default=2, help="viewers for the MediaRelay baseline (0: skip)")
    ap.add_argument("--profile", action="store_true", help="add the relay's top functions (cProfile) to the result")
    ap.add_argument("--child", choices=["passthrough", "baseline"], help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        deadline = threading.Timer(600, lambda: os._exit(3))  # a stuck child never outlives the run
        deadline.daemon = True
        deadline.start()
        asyncio.run(run_relay(args.child, args.port, args.profile))
        return 0
    if not 1 <= args.viewers <= 500 or not 1 <= args.seconds <= 300:
        ap.error("--viewers must be 1..500 and --seconds 1..300")
    width, height, bitrate = RESOLUTIONS[args.resolution]
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / f"source-{args.resolution}.mp4"
        make_clip(clip, width, height, bitrate)
        result = one_run("passthrough", args.viewers, args.seconds, args.resolution, clip, args.profile)
        baseline = None
        if args.baseline_viewers:
            baseline = one_run("baseline", min(args.baseline_viewers, args.viewers), args.seconds,
                               args.resolution, clip, False)
    out = {"bench": "relay", "resolution": args.resolution, "target_bitrate_kbps": bitrate // 1000,
           **{k: v for k, v in result.items() if k != "mode"}, "baseline": baseline}
    if baseline and baseline.get("viewers_per_core") and result.get("viewers_per_core"):
        out["ratio_viewers_per_core"] = round(result["viewers_per_core"] / baseline["viewers_per_core"], 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
