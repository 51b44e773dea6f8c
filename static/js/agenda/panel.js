// Attendee agenda: what is on now, what comes next, a countdown on the server's clock, and the
// whole programme with the live segment marked; times in the viewer's zone, the venue's beside.
import { el } from "/static/js/client.js";
import { STATUS_LABELS, agendaStore, bothTimes, countdownText, segmentCard } from "/static/js/agenda/view.js";

export function mount(root, client, ctx) {
  const event = ctx.event;
  const zone = event.timezone;
  root.textContent = "";
  const status = el("div", { class: "agenda-status", role: "status" }, "Waiting for the agenda…");
  const now = el("div", { class: "agenda-now-slot" });
  const countdown = el("div", { class: "agenda-countdown", "aria-live": "off" });
  const next = el("div", { class: "agenda-next-slot" });
  const rows = new Map();
  const list = el("ol", { class: "agenda-programme" }, event.segments.map((seg) => {
    const [mine, venue] = bothTimes(Date.parse(seg.planned_start), zone);
    const row = el("li", { class: "agenda-item", dataset: { segment: seg.id } },
      el("span", { class: "agenda-time" }, mine, venue ? el("small", { class: "muted" }, ` (${venue})`) : null),
      el("span", { class: "agenda-item-title" }, seg.title),
      seg.people.length ? el("span", { class: "muted agenda-item-people" }, seg.people.map((p) => p.name).join(", ")) : null);
    rows.set(seg.id, row);
    return row;
  }));
  root.append(
    el("h2", {}, "Agenda"),
    status,
    now,
    countdown,
    next,
    el("h3", {}, "Programme"),
    el("p", { class: "muted agenda-zone" }, `Times in your time zone (${Intl.DateTimeFormat().resolvedOptions().timeZone}); venue time (${zone}) beside where it differs.`),
    list,
  );

  const render = (state) => {
    root.dataset.version = state.version;
    root.dataset.status = state.status;
    status.dataset.status = state.status;
    status.textContent = [STATUS_LABELS[state.status] || state.status, state.running].filter(Boolean).join(" · ");
    now.replaceChildren(state.segment ? segmentCard("Now", state.segment, "agenda-now") : el("div", { class: "agenda-card agenda-now empty" },
      state.status === "ended" ? "The session has ended. Thank you for joining." : "The session has not started yet."));
    next.replaceChildren(segmentCard("Next", state.next, "agenda-next"));
    const liveId = state.segment && state.segment.id;
    const done = new Set(state.timeline.filter((t) => t.actual_end).map((t) => t.id));
    for (const [id, row] of rows) {
      row.classList.toggle("live", id === liveId);
      row.classList.toggle("done", id !== liveId && done.has(id));
      if (id === liveId) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    }
    tick();
  };
  const store = agendaStore(client, render);
  const tick = () => {
    countdown.textContent = countdownText(store.get(), client.now());
  };
  setInterval(tick, 500);
}
