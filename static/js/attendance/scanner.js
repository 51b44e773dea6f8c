// Check-in desk: scan badges with the camera (BarcodeDetector) or type them in, see a big
// green (checked in), orange (already in / left) or red (refused) result, and register walk-ins.
import { el } from "/static/js/client.js";

const REPEAT_MS = 3000; // the same code held in front of the camera is not sent again for 3 s

export function mount(root, client, ctx) {
  root.textContent = "";
  const base = `/api/events/${encodeURIComponent(ctx.event.id)}`;
  const result = el("div", { class: "scan-result", role: "status", "aria-live": "assertive", dataset: { state: "idle" } },
    "Ready to scan");
  const gate = el("input", { name: "gate", placeholder: "Gate (optional)", maxlength: 40 });
  const direction = el("select", { name: "direction" },
    el("option", { value: "in" }, "Entering"), el("option", { value: "out" }, "Leaving"));
  const code = el("input", { name: "badge", placeholder: "Badge code", autocomplete: "off", required: true });
  const manual = el("form", { class: "scan-manual", onsubmit: (e) => { e.preventDefault(); submit(code.value); code.value = ""; } },
    code, el("button", { type: "submit" }, "Check"));
  const video = el("video", { class: "scan-video", playsinline: true, muted: true, hidden: true });
  const cameraNote = el("p", { class: "muted" });
  const name = el("input", { name: "walkin-name", placeholder: "Name", required: true, maxlength: 80 });
  const org = el("input", { name: "walkin-organisation", placeholder: "Organisation (optional)", maxlength: 80 });
  const country = el("input", { name: "walkin-country", placeholder: "Country (optional)", maxlength: 80 });
  const printed = el("div", { class: "walkin-badge" });
  const walkin = el("form", { class: "walkin", onsubmit: (e) => { e.preventDefault(); register(); } },
    el("h3", {}, "Walk-in"), name, org, country, el("button", { type: "submit" }, "Register and check in"), printed);
  root.append(el("div", { class: "scan-controls" }, direction, gate), result, video, cameraNote, manual, walkin);

  function showResult(state, title, detail = "") {
    result.dataset.state = state;
    result.textContent = "";
    result.append(el("strong", {}, title), detail ? el("span", {}, detail) : null);
  }

  async function post(path, body) {
    const res = await fetch(`${base}/${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${ctx.token}` },
      body: JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    return { status: res.status, data };
  }

  async function submit(text) {
    text = (text || "").trim();
    if (!text) return;
    showResult("busy", "Checking…");
    try {
      const { status, data } = await post("checkins", { badge: text, direction: direction.value, gate: gate.value });
      const who = data.attendee ? data.attendee.name : "";
      if (status === 201) showResult("ok", "Welcome", who);
      else if (status === 200 && data.status === "already_checked_in") showResult("warn", "Already checked in", who);
      else if (status === 200 && data.status === "checked_out") showResult("ok", "Goodbye", who);
      else if (status === 200) showResult("warn", "Was not in the hall", who);
      else showResult("bad", "Refused", data.detail || `error ${status}`);
    } catch (err) {
      showResult("bad", "No connection", err.message);
    }
  }

  async function register() {
    const { status, data } = await post("walkins", { name: name.value, organisation: org.value, country: country.value,
      gate: gate.value });
    printed.textContent = "";
    if (status !== 201) { showResult("bad", "Walk-in refused", data.detail || `error ${status}`); return; }
    showResult("ok", "Welcome", data.attendee.name);
    // the badge SVG is drawn by the server from escaped text; shown as an image, never as markup
    const url = URL.createObjectURL(new Blob([data.svg], { type: "image/svg+xml" }));
    printed.append(el("img", { src: url, alt: `Badge of ${data.attendee.name}` }),
      el("button", { type: "button", onclick: () => window.open(url, "_blank") }, "Print badge"));
    name.value = org.value = country.value = "";
  }

  async function startCamera() {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) {
      cameraNote.textContent = "This browser cannot read QR codes from the camera; type the code below.";
      return;
    }
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (!formats.includes("qr_code")) throw new Error("no QR support");
      const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.hidden = false;
      await video.play();
      let last = "", lastAt = 0, busy = false;
      const loop = async () => {
        if (!busy && video.readyState >= 2) {
          busy = true;
          try {
            const found = await detector.detect(video);
            const now = Date.now();
            if (found.length && (found[0].rawValue !== last || now - lastAt > REPEAT_MS)) {
              last = found[0].rawValue; lastAt = now;
              await submit(last);
            }
          } catch { /* a frame that cannot be read is skipped */ }
          busy = false;
        }
        requestAnimationFrame(loop);
      };
      requestAnimationFrame(loop);
      cameraNote.textContent = "Hold a badge in front of the camera.";
    } catch (err) {
      cameraNote.textContent = `Camera unavailable (${err.message}); type the code below.`;
    }
  }

  startCamera();
}
