// Speaker publisher: camera and microphone preview, go live and stop over WHIP.
import { el } from "/static/js/client.js";
import { hangUp, negotiate, preferH264 } from "/static/js/media/whip-client.js";

const REFUSED = {
  NotAllowedError: "Camera or microphone access was refused. Allow it for this site in the browser's settings, then reload.",
  NotFoundError: "No camera or microphone was found. Connect one, then reload.",
  NotReadableError: "The camera is in use by another application. Close it, then reload.",
};
const TOKEN_CODES = new Set(["unauthorized", "invalid_token", "token_expired", "wrong_event", "forbidden"]);

export function mount(root, client, ctx) {
  root.textContent = "";
  const video = el("video", { class: "preview", autoplay: true, muted: true, playsinline: true });
  video.muted = true;
  const message = el("p", { class: "media-message", role: "status" });
  const live = el("span", { class: "live-badge", hidden: true }, "LIVE");
  const goLive = el("button", { type: "button", disabled: true }, "Go live");
  const stop = el("button", { type: "button", disabled: true }, "Stop");
  root.append(el("h2", {}, "Your camera ", live), video, el("div", { class: "media-actions" }, goLive, stop), message);
  const say = (text, state = "info") => { message.textContent = text; message.dataset.state = state; };

  let stream = null;
  let pc = null;
  let resource = null;

  if (!ctx.token) {
    say("This page needs your speaker link (it carries your token). Ask the organizers for it.", "error");
    return;
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    say("This browser cannot use a camera here (the page must be served over HTTPS).", "error");
    return;
  }
  navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: true }).then((s) => {
    stream = s;
    video.srcObject = s;
    goLive.disabled = false;
    say("Camera ready. Press “Go live” when you are ready to speak.");
  }).catch((err) => say(REFUSED[err.name] || `The camera could not start: ${err.message}`, "error"));

  async function start() {
    goLive.disabled = true;
    say("Connecting…");
    pc = new RTCPeerConnection({ iceServers: [] });
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    preferH264(pc);
    pc.addEventListener("connectionstatechange", () => {
      if (pc && pc.connectionState === "connected") {
        live.hidden = false;
        stop.disabled = false;
        say("You are live. The moderator puts you on stage.", "live");
      } else if (pc && (pc.connectionState === "failed" || pc.connectionState === "disconnected")) {
        say("The connection dropped. Press “Go live” to reconnect.", "error");
        end(false);
      }
    });
    try {
      resource = await negotiate(pc, `/whip/${encodeURIComponent(ctx.event.id)}`, ctx.token);
    } catch (err) {
      if (TOKEN_CODES.has(err.code)) say(`Your link does not allow going live (${err.message}). Ask the organizers for a new one.`, "error");
      else if (err.status === 409) say("Someone else is publishing in your place. Ask the moderator.", "error");
      else say(`Could not go live: ${err.message}`, "error");
      end(false);
    }
  }

  function end(deleteResource = true) {
    if (deleteResource) hangUp(resource, ctx.token);
    resource = null;
    if (pc) pc.close();
    pc = null;
    live.hidden = true;
    stop.disabled = true;
    goLive.disabled = !stream;
  }

  goLive.addEventListener("click", start);
  stop.addEventListener("click", () => { end(true); say("You stopped. Press “Go live” to start again."); });
  window.addEventListener("pagehide", () => hangUp(resource, ctx.token));
}
