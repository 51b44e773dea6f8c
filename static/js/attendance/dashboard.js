// Organizer attendance dashboard: the live figures large, a hand-drawn chart of online and
// in-hall counts with segment boundaries, the segment table, and the CSV reports.
import { el } from "/static/js/client.js";

const FIGURES = [
  ["online_now", "Online now"],
  ["in_person_now", "In the hall now"],
  ["reached", "Reached"],
  ["peak_online", "Peak online"],
  ["peak_in_person", "Peak in the hall"],
  ["unique_online", "Unique online"],
  ["checked_in_total", "Checked in"],
];

const fmtTime = (t) => (t ? new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "");
const fmtHours = (s) => `${(s / 3600).toFixed(1)} h`;

export function mount(root, client, ctx) {
  root.textContent = "";
  const values = {};
  const grid = el("div", { class: "att-figures" },
    FIGURES.map(([key, label]) => {
      values[key] = el("span", { class: "att-value", dataset: { figure: key } }, "–");
      return el("div", { class: "att-figure" }, values[key], el("span", { class: "att-label" }, label));
    }));
  const watch = el("span", { class: "att-value small", dataset: { figure: "watch_time_s" } }, "–");
  grid.append(el("div", { class: "att-figure" }, watch, el("span", { class: "att-label" }, "Total watch time")));
  const peakAt = el("p", { class: "muted att-peak" });
  const canvas = el("canvas", { class: "att-chart", width: 900, height: 260, "aria-label": "Online and in-hall over time" });
  const legend = el("p", { class: "att-legend" },
    el("span", { class: "att-key online" }, "online"), " ", el("span", { class: "att-key hall" }, "in the hall"),
    " ", el("span", { class: "att-key seg" }, "segment start"));
  const groups = el("div", { class: "att-groups" });
  const table = el("table", { class: "att-segments" });
  const reports = el("p", { class: "att-reports" },
    el("button", { onclick: () => download("attendance.csv") }, "Segments CSV"), " ",
    el("button", { onclick: () => download("attendees.csv") }, "Attendees CSV"));
  const problem = el("p", { class: "error", role: "alert" });
  root.append(el("h2", {}, "Attendance"), grid, peakAt, canvas, legend, reports, problem, groups, table);

  let series = [];
  let segments = [];

  async function download(name) {
    problem.textContent = "";
    try {
      const res = await fetch(`/api/events/${encodeURIComponent(ctx.event.id)}/${name}`,
        { headers: { Authorization: `Bearer ${ctx.token}` } });
      if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
      const url = URL.createObjectURL(await res.blob());
      const a = el("a", { href: url, download: `${ctx.event.id}-${name}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 5000);
    } catch (err) {
      problem.textContent = `Download failed: ${err.message}`;
    }
  }

  function show(d) {
    for (const [key] of FIGURES) values[key].textContent = String(d[key] ?? 0);
    watch.textContent = fmtHours(d.watch_time_s || 0);
    peakAt.textContent = [
      d.peak_online_at ? `online peak at ${fmtTime(d.peak_online_at)}` : "",
      d.peak_in_person_at ? `hall peak at ${fmtTime(d.peak_in_person_at)}` : "",
    ].filter(Boolean).join(" · ");
    segments = d.segments || [];
    renderGroups(d);
    renderTable(d.current_segment);
    draw();
  }

  function renderGroups(d) {
    groups.textContent = "";
    for (const kind of ["country", "organisation"]) {
      const entries = Object.entries((d.online_by || {})[kind] || {}).slice(0, 8);
      if (!entries.length) continue;
      groups.append(el("div", {}, el("h3", {}, `Online by ${kind}`),
        el("ul", {}, entries.map(([name, n]) => el("li", {}, `${name}: ${n}`)))));
    }
  }

  function renderTable(current) {
    table.textContent = "";
    table.append(el("tr", {}, ["Segment", "Planned", "Started", "Unique online", "Start → end online",
      "Peak online", "In hall"].map((h) => el("th", {}, h))));
    for (const s of segments) {
      table.append(el("tr", { class: s.id === current ? "live" : "" },
        el("td", {}, s.title), el("td", {}, s.planned_start.slice(11, 16)), el("td", {}, fmtTime(s.started_at)),
        el("td", {}, String(s.unique_viewers)),
        el("td", {}, s.start_online == null ? "" : `${s.start_online} → ${s.end_online ?? "…"}`),
        el("td", {}, String(s.peak_online)), el("td", {}, String(s.in_person))));
    }
  }

  function draw() {
    const ctx2 = canvas.getContext("2d");
    const w = canvas.width, h = canvas.height, pad = 32;
    ctx2.clearRect(0, 0, w, h);
    ctx2.font = "12px system-ui, sans-serif";
    ctx2.fillStyle = "#93a4b5";
    if (series.length < 2) {
      ctx2.fillText("The chart fills in with one point every 10 seconds.", pad, h / 2);
      return;
    }
    const t0 = series[0].t, t1 = series[series.length - 1].t;
    const top = Math.max(1, ...series.map((p) => Math.max(p.online, p.in_person)));
    const x = (t) => pad + ((t - t0) / Math.max(1, t1 - t0)) * (w - 2 * pad);
    const y = (v) => h - pad - (v / top) * (h - 2 * pad);
    ctx2.strokeStyle = "#2c3b4a";
    ctx2.beginPath(); ctx2.moveTo(pad, pad); ctx2.lineTo(pad, h - pad); ctx2.lineTo(w - pad, h - pad); ctx2.stroke();
    ctx2.fillText(String(top), 4, pad + 4);
    ctx2.fillText(fmtTime(t0), pad, h - 10);
    ctx2.fillText(fmtTime(t1), w - pad - 40, h - 10);
    ctx2.strokeStyle = "#6b7c8d";
    ctx2.setLineDash([4, 4]);
    for (const s of segments) {
      if (!s.started_at || s.started_at < t0 || s.started_at > t1) continue;
      ctx2.beginPath(); ctx2.moveTo(x(s.started_at), pad); ctx2.lineTo(x(s.started_at), h - pad); ctx2.stroke();
    }
    ctx2.setLineDash([]);
    for (const [key, color] of [["online", "#3fa7ff"], ["in_person", "#2ecc71"]]) {
      ctx2.strokeStyle = color;
      ctx2.lineWidth = 2;
      ctx2.beginPath();
      series.forEach((p, i) => (i ? ctx2.lineTo(x(p.t), y(p[key])) : ctx2.moveTo(x(p.t), y(p[key]))));
      ctx2.stroke();
      ctx2.lineWidth = 1;
    }
  }

  client.on("attendance", (msg) => {
    const d = msg.d || {};
    if (msg.type === "snapshot") series = d.series || [];
    else if (d.point && (!series.length || series[series.length - 1].t < d.point.t)) series.push(d.point);
    if (series.length > 2000) series = series.slice(-2000);
    show(d);
  });
}
