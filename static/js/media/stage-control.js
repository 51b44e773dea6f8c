// Moderator stage controls: who is live, put on stage, take off, play a recorded message, slates.
import { el } from "/static/js/client.js";

export function mount(root, client, ctx) {
  root.textContent = "";
  const now = el("p", { class: "stage-now", role: "status" }, "…");
  const live = el("ul", { class: "live-speakers" });
  const message = el("p", { class: "media-message", role: "alert" });
  const clips = ((ctx.event && ctx.event.segments) || []).filter((s) => s.kind === "video_message" && s.media);
  const names = new Map();
  for (const seg of (ctx.event && ctx.event.segments) || []) {
    for (const p of seg.people || []) names.set(p.id || p.name, p.name);
  }

  async function call(op, d) {
    message.textContent = "";
    try {
      await client.request(op, d);
    } catch (err) {
      message.textContent = `${op}: ${err.message}`;
    }
  }

  const slates = el("div", { class: "media-actions" },
    el("button", { type: "button", onclick: () => call("stage.clear", { slate: "title" }) }, "Take off stage"),
    el("button", { type: "button", onclick: () => call("stage.clear", { slate: "starting soon" }) }, "Slate: starting soon"),
    el("button", { type: "button", onclick: () => call("stage.clear", { slate: "break" }) }, "Slate: break"),
    el("button", { type: "button", onclick: () => call("stage.clear", { slate: null }) }, "Off air"));
  const clipList = el("ul", { class: "clips" }, clips.map((s) => el("li", {},
    el("button", { type: "button", onclick: () => call("stage.clip", { segment: s.id }) }, "Play"),
    ` ${s.title} (${(s.people || []).map((p) => p.name).join(", ")})`)));
  root.append(el("h2", {}, "Stage"), now, el("h3", {}, "Live speakers"), live, slates,
    el("h3", {}, "Recorded messages"), clipList, message);

  client.on("stage", (msg) => {
    const s = msg.d || {};
    const who = s.kind === "speaker" ? `${names.get(s.on_stage) || s.on_stage} is on stage`
      : s.kind === "clip" ? `Playing the recorded message of ${s.on_stage}`
      : s.kind === "off" ? "Off air" : `Slate: ${s.slate}`;
    now.textContent = who;
    live.replaceChildren(...(s.live_speakers || []).map((p) => el("li", { dataset: { speaker: p.id } },
      `${p.name} `,
      p.id === s.on_stage && s.kind === "speaker"
        ? el("strong", {}, "on stage")
        : el("button", { type: "button", onclick: () => call("stage.show", { speaker: p.id }) }, "Put on stage"))));
    if (!(s.live_speakers || []).length) live.replaceChildren(el("li", { class: "empty" }, "Nobody is live yet."));
  });
}
