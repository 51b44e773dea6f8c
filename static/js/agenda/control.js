// Moderator console: now/next/countdown, one button per action (each sends the version it saw),
// planned against actual, and the transition log. A stale click shows the conflict; it never
// advances the session a second time, because the server refuses an old version.
import { api, el } from "/static/js/client.js";
import { STATUS_LABELS, agendaStore, clock, countdownText, segmentCard } from "/static/js/agenda/view.js";

const ALLOWED = {
  start: ["not_started"],
  previous: ["live", "paused"],
  next: ["live", "paused"],
  pause: ["live"],
  resume: ["paused"],
  extend: ["live", "paused"],
  end: ["live", "paused"],
  goto: ["not_started", "live", "paused"],
};

export function mount(root, client, ctx) {
  const event = ctx.event;
  const zone = event.timezone;
  root.textContent = "";
  let busy = false;
  const status = el("div", { class: "agenda-status", role: "status" }, "Waiting for the agenda…");
  const now = el("div", { class: "agenda-now-slot" });
  const countdown = el("div", { class: "agenda-countdown" });
  const next = el("div", { class: "agenda-next-slot" });
  const notice = el("div", { class: "agenda-notice", role: "alert" });
  const buttons = {};
  const button = (action, label, extra = () => ({})) => {
    buttons[action] = el("button", { type: "button", class: `agenda-action agenda-${action}`, dataset: { action },
      onclick: () => send(action, extra()) }, label);
    return buttons[action];
  };
  const minutes = el("input", { type: "number", min: "1", max: "120", value: "5", class: "agenda-minutes", "aria-label": "minutes to add" });
  const target = el("select", { class: "agenda-target", "aria-label": "segment to go to" },
    event.segments.map((s, i) => el("option", { value: s.id }, `${i + 1}. ${s.title}`)));
  const timelineBody = el("tbody");
  const logBody = el("tbody");
  root.append(
    el("h2", {}, "Agenda control"),
    status,
    now,
    countdown,
    next,
    el("div", { class: "agenda-buttons" },
      button("start", "Start"), button("previous", "◀ Previous"), button("next", "Next ▶"),
      button("pause", "Pause"), button("resume", "Resume"),
      el("span", { class: "agenda-extend" }, button("extend", "Extend", () => ({ minutes: Number(minutes.value) })), minutes, " min"),
      button("end", "End session")),
    el("div", { class: "agenda-buttons" }, target, button("goto", "Go to segment", () => ({ segment: target.value }))),
    notice,
    el("details", { class: "agenda-timeline", open: true }, el("summary", {}, "Planned against actual"),
      el("table", {}, el("thead", {}, el("tr", {}, ["#", "Segment", "Planned", "Actual", "Δ min", "+min"].map((h) => el("th", {}, h)))),
        timelineBody)),
    el("details", { class: "agenda-log", open: true }, el("summary", {}, "Transition log"),
      el("table", {}, el("thead", {}, el("tr", {}, ["When", "Who", "Action", "From", "To", "v"].map((h) => el("th", {}, h)))),
        logBody)),
  );

  const setButtons = (state) => {
    for (const [action, btn] of Object.entries(buttons)) {
      btn.disabled = busy || !state || !ALLOWED[action].includes(state.status)
        || (action === "next" && state.index + 1 >= state.count)
        || (action === "previous" && state.index <= 0);
    }
  };

  const render = (state) => {
    root.dataset.version = state.version;
    root.dataset.status = state.status;
    status.dataset.status = state.status;
    status.textContent = [`${STATUS_LABELS[state.status] || state.status}`,
      state.segment ? `segment ${state.index + 1} of ${state.count}` : null,
      state.running, `projected end ${clock(state.projected_end, zone)} venue time`, `v${state.version}`]
      .filter(Boolean).join(" · ");
    now.replaceChildren(segmentCard("Now", state.segment, "agenda-now"));
    next.replaceChildren(segmentCard("Next", state.next, "agenda-next"));
    timelineBody.replaceChildren(...state.timeline.map((t, i) => el("tr", { class: i === state.index && state.segment ? "live" : "" },
      el("td", {}, String(i + 1)),
      el("td", {}, t.title),
      el("td", {}, clock(t.scheduled_start, zone)),
      el("td", {}, t.actual_start ? clock(t.actual_start, zone) : "—"),
      el("td", {}, t.delta_minutes == null ? "" : (t.delta_minutes > 0 ? `+${t.delta_minutes}` : String(t.delta_minutes))),
      el("td", {}, t.extended ? `+${t.extended}` : ""))));
    setButtons(state);
    tick();
    refreshLog();
  };
  const store = agendaStore(client, render);
  const tick = () => {
    countdown.textContent = countdownText(store.get(), client.now());
  };
  setInterval(tick, 500);

  let logTimer = null;
  const refreshLog = () => {
    clearTimeout(logTimer);
    logTimer = setTimeout(async () => {
      try {
        const { entries } = await api(`/api/events/${encodeURIComponent(event.id)}/agenda/log?limit=200`, { token: ctx.token });
        const title = (id) => (id ? id : "—");
        logBody.replaceChildren(...entries.slice().reverse().map((e) => el("tr", {},
          el("td", {}, clock(e.at, zone)),
          el("td", {}, e.name || e.who),
          el("td", {}, e.detail ? `${e.action} ${e.detail}` : e.action),
          el("td", {}, `${e.from_status} ${title(e.from_segment)}`),
          el("td", {}, `${e.to_status} ${title(e.to_segment)}`),
          el("td", {}, String(e.version)))));
      } catch (err) {
        logBody.replaceChildren(el("tr", {}, el("td", { class: "error", colspan: "6" }, `log unavailable: ${err.message}`)));
      }
    }, 150);
  };

  const describe = (state) => (state.segment
    ? `${STATUS_LABELS[state.status]}: “${state.segment.title}” (segment ${state.index + 1}, version ${state.version})`
    : `${STATUS_LABELS[state.status]} (version ${state.version})`);

  async function send(action, extra) {
    const seen = store.get();
    if (!seen || busy) return;
    busy = true;
    setButtons(seen);
    notice.textContent = "";
    notice.className = "agenda-notice";
    const body = { action, expected_version: seen.version, ...extra };
    try {
      let state;
      try {
        state = await client.request("agenda.action", body);
      } catch (err) {
        if (err.code !== "offline") throw err;
        // the socket is reconnecting: the same action over HTTP, still guarded by the version
        state = await api(`/api/events/${encodeURIComponent(event.id)}/agenda/actions`, { method: "POST", token: ctx.token, body });
      }
      store.accept(state);
    } catch (err) {
      const reply = err.reply || err.data || {};
      const code = reply.code || err.code || "error";
      if (reply.state) store.accept(reply.state);
      notice.className = `agenda-notice conflict ${code}`;
      notice.dataset.code = code;
      notice.textContent = code === "stale_version"
        ? `Not applied: someone acted first. The session is now ${describe(reply.state)}. Check, then click again if still needed.`
        : `Not applied: ${reply.message || reply.detail || err.message}`;
    } finally {
      busy = false;
      setButtons(store.get());
    }
  }
}
