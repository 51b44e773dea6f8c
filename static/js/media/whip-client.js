// WHIP/WHEP over fetch, shared by the publisher and the player: POST the offer with every
// candidate gathered (the server never trickles back), read the answer and the Location.

export class HttpError extends Error {
  constructor(status, problem, headers) {
    super((problem && problem.detail) || `HTTP ${status}`);
    this.status = status;
    this.code = (problem && problem.code) || String(status);
    this.retryAfter = Number(headers.get("Retry-After")) || 0;
  }
}

export function preferH264(pc) {
  if (!window.RTCRtpSender || !RTCRtpSender.getCapabilities) return;
  const caps = RTCRtpSender.getCapabilities("video");
  if (!caps) return;
  const h264 = caps.codecs.filter((c) => c.mimeType.toLowerCase() === "video/h264" && /packetization-mode=1/.test(c.sdpFmtpLine || ""));
  const rest = caps.codecs.filter((c) => ["video/rtx", "video/red", "video/ulpfec"].includes(c.mimeType.toLowerCase()));
  for (const t of pc.getTransceivers()) {
    if ((t.receiver.track && t.receiver.track.kind === "video") || (t.sender.track && t.sender.track.kind === "video")) {
      if (h264.length && t.setCodecPreferences) t.setCodecPreferences([...h264, ...rest]);
    }
  }
}

function gathered(pc, ms = 3000) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); pc.removeEventListener("icegatheringstatechange", check); resolve(); };
    const check = () => pc.iceGatheringState === "complete" && done();
    const timer = setTimeout(done, ms);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

// Returns the resource URL (for DELETE).
export async function negotiate(pc, url, token) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const headers = { "Content-Type": "application/sdp" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: "POST", headers, body: pc.localDescription.sdp });
  const text = await res.text();
  if (res.status !== 201) {
    let problem = null;
    try { problem = JSON.parse(text); } catch { /* not JSON */ }
    throw new HttpError(res.status, problem, res.headers);
  }
  await pc.setRemoteDescription({ type: "answer", sdp: text });
  return new URL(res.headers.get("Location"), new URL(url, location.href)).toString();
}

export function hangUp(resource, token) {
  if (!resource) return;
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  fetch(resource, { method: "DELETE", headers, keepalive: true }).catch(() => {});
}
