// Hall screen for the projector: what is on now and next (agenda topic), the highlighted question
// in large type, and reactions floating up as they are aggregated (one push per second at most).
import { el } from "/static/js/client.js";

const MAX_FLOATERS = 40;

function people(seg) {
  const list = Array.isArray(seg && seg.people) ? seg.people : [];
  return list.map((p) => (p && typeof p === "object" ? p.name : p)).filter(Boolean).join(", ");
}

function card(label, seg, cls) {
  if (!seg || typeof seg !== "object") return el("div", { class: `screen-card ${cls} empty` }, el("span", { class: "screen-label" }, label), "—");
  return el("div", { class: `screen-card ${cls}` },
    el("span", { class: "screen-label" }, label),
    el("div", { class: "screen-title" }, seg.title || ""),
    el("div", { class: "screen-people" }, people(seg)));
}

export function mount(root, client, ctx) {
  root.textContent = "";
  const now = el("div", { class: "screen-now-slot" }, card("Now", null, "screen-now"));
  const next = el("div", { class: "screen-next-slot" }, card("Next", null, "screen-next"));
  const question = el("div", { class: "screen-question", hidden: true, "aria-live": "polite" });
  const counts = el("div", { class: "screen-counts" });
  const sky = el("div", { class: "screen-sky", "aria-hidden": "true" });
  root.append(el("div", { class: "screen-agenda" }, now, next), question, counts, sky);

  client.on("agenda", (msg) => {
    const d = msg.d || {};
    if (!("segment" in d) && !("next" in d)) return;
    now.replaceChildren(card("Now", d.segment, "screen-now"));
    next.replaceChildren(card("Next", d.next, "screen-next"));
  });

  const showQuestion = (q) => {
    question.hidden = !q;
    question.dataset.id = q ? q.id : "";
    question.replaceChildren(...(q ? [el("p", { class: "screen-question-text" }, q.text),
      el("p", { class: "screen-question-name" }, q.name || "")] : []));
  };
  client.on("qa", (msg) => {
    const d = msg.d || {};
    if (msg.type === "snapshot") showQuestion(d.highlighted || null);
    else if (d.kind === "highlight") showQuestion(d.q);
    else if (d.kind === "question" && !question.hidden && question.dataset.id === d.q.id) showQuestion(d.q);
  });

  client.on("reactions", (msg) => {
    if (msg.type !== "push") return;
    const entries = Object.entries(msg.d.counts || {});
    counts.replaceChildren(...entries.map(([emoji, n]) => el("span", { class: "screen-count", dataset: { emoji } }, `${emoji} ${n}`)));
    const total = entries.reduce((sum, [, n]) => sum + n, 0);
    let budget = Math.min(MAX_FLOATERS, total);
    for (const [emoji, n] of entries) {
      const share = Math.max(1, Math.round((n / total) * budget));
      for (let i = 0; i < share && budget > 0; i += 1, budget -= 1) {
        const f = el("span", { class: "floater" }, emoji);
        f.style.left = `${Math.random() * 90 + 5}%`;
        f.style.animationDelay = `${Math.random() * 800}ms`;
        f.addEventListener("animationend", () => f.remove());
        sky.append(f);
      }
    }
  });
}
