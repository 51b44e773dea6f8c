// Attendee stage player: WHEP, reconnects by itself with backoff, shows what is on stage.
import { el } from "/static/js/client.js";
import { HttpError, hangUp, negotiate, preferH264 } from "/static/js/media/whip-client.js";

const CAPTIONS = { "starting soon": "Starting soon", break: "Break", title: "", off: "Off air" };

export function mount(root, client, ctx) {
  root.textContent = "";
  const video = el("video", { class: "player", autoplay: true, muted: true, playsinline: true });
  video.muted = true;
  const caption = el("p", { class: "stage-caption", role: "status" }, "Connecting to the stage…");
  const unmute = el("button", { type: "button", class: "unmute" }, "Unmute");
  unmute.addEventListener("click", () => { video.muted = false; unmute.hidden = true; video.play().catch(() => {}); });
  root.append(el("div", { class: "player-box" }, video, caption), unmute);

  let pc = null;
  let resource = null;
  let attempt = 0;
  let timer = null;
  const names = new Map();
  for (const seg of (ctx.event && ctx.event.segments) || []) {
    for (const p of seg.people || []) names.set(p.id || p.name, p.name);
  }

  const token = () => (client && client.token) || ctx.token;

  function retry(seconds) {
    clearTimeout(timer);
    attempt += 1;
    const base = Math.max(seconds || 0, Math.min(30, 2 ** Math.min(attempt, 5) / 2));
    timer = setTimeout(connect, (base + Math.random()) * 1000);
  }

  function ensure() {
    if (pc && ["new", "connecting", "connected"].includes(pc.connectionState)) return;
    attempt = 0;
    connect();
  }

  async function connect() {
    clearTimeout(timer);
    if (pc) pc.close();
    hangUp(resource, token());
    resource = null;
    if (!token()) return retry(1); // a guest gets its token with the welcome
    pc = new RTCPeerConnection({ iceServers: [] });
    const mine = pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    preferH264(pc);
    const stream = new MediaStream();
    pc.addEventListener("track", (ev) => { stream.addTrack(ev.track); video.srcObject = stream; video.play().catch(() => {}); });
    pc.addEventListener("connectionstatechange", () => {
      if (mine !== pc) return;
      if (pc.connectionState === "connected") attempt = 0;
      if (pc.connectionState === "failed" || pc.connectionState === "closed") retry(0);
    });
    try {
      resource = await negotiate(pc, `/whep/${encodeURIComponent(ctx.event.id)}`, token());
    } catch (err) {
      if (err instanceof HttpError && err.status === 409) caption.textContent = "The stage is not on air yet.";
      else caption.textContent = "Reconnecting to the stage…";
      retry(err.retryAfter || 0);
    }
  }

  if (client) {
    client.on("stage", (msg) => {
      const s = msg.d || {};
      if (s.kind === "speaker") caption.textContent = `On stage: ${names.get(s.on_stage) || s.on_stage}`;
      else if (s.kind === "clip") caption.textContent = "Video message";
      else caption.textContent = CAPTIONS[s.slate] ?? "";
      root.dataset.kind = s.kind || "";
      if (s.kind !== "off") ensure();
    });
    client.on("_welcome", ensure);
  } else {
    connect();
  }
  window.addEventListener("pagehide", () => hangUp(resource, token()));
}
