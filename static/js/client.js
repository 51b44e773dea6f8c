// The one protocol client every page uses: connect, authenticate, reconnect with backoff and
// jitter, resume from the last position of each topic, and dispatch pushes by topic.
// The protocol is documented in server/realtime/PROTOCOL.md.

const TERMINAL = (code) => (code >= 4500 && code <= 4999) || code === 1008 || code === 1009;

export class RequestError extends Error {
  constructor(reply) {
    super(reply.message || reply.code);
    this.code = reply.code;
    this.reply = reply;
  }
}

export class PlenaryClient {
  constructor({ event, token = null, guest = null, topics = null, onStatus = () => {} }) {
    this.event = event;
    this.token = token;
    this.guest = guest;
    this.topics = topics;
    this.onStatus = onStatus;
    this.handlers = new Map();
    this.positions = {};
    this.pending = new Map();
    this.nextId = 1;
    this.attempt = 0;
    this.user = null;
    this.clockOffset = 0; // server time minus local time, ms
    this.stopped = false;
    this.ws = null;
  }

  on(topic, handler) {
    if (!this.handlers.has(topic)) this.handlers.set(topic, []);
    this.handlers.get(topic).push(handler);
    return this;
  }

  now() {
    return Date.now() + this.clockOffset;
  }

  start() {
    this.stopped = false;
    this._connect();
    return this;
  }

  close() {
    this.stopped = true;
    clearInterval(this.pinger);
    if (this.ws) this.ws.close(1000);
  }

  request(op, d = {}, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN || !this.user) {
        reject(new RequestError({ code: "offline", message: "not connected; try again in a moment" }));
        return;
      }
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestError({ code: "timeout", message: `${op} got no answer` }));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ op, id, d }));
    });
  }

  _status(state, detail = "") {
    this.onStatus({ state, detail, attempt: this.attempt });
  }

  _connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/ws/${encodeURIComponent(this.event)}`, ["plenary.v1"]);
    this.ws = ws;
    this._status("connecting");
    ws.onopen = () => {
      const hello = { v: 1, resume: this.positions };
      if (this.token) hello.token = this.token;
      else if (this.guest) hello.guest = this.guest;
      if (this.topics) hello.topics = this.topics;
      const id = this.nextId++;
      this.pending.set(id, {
        resolve: (welcome) => this._welcome(welcome),
        reject: (err) => this._status("refused", err.message),
        timer: null,
      });
      ws.send(JSON.stringify({ op: "hello", id, d: hello }));
    };
    ws.onmessage = (ev) => {
      let batch;
      try {
        batch = JSON.parse(ev.data);
      } catch {
        return;
      }
      for (const msg of batch) this._dispatch(msg);
    };
    ws.onclose = (ev) => {
      clearInterval(this.pinger);
      this.user = null;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new RequestError({ code: "offline", message: "connection lost" }));
        this.pending.delete(id);
      }
      if (this.stopped) return;
      if (TERMINAL(ev.code)) {
        this._status("closed", ev.reason || `closed (${ev.code})`);
        return;
      }
      this._retry();
    };
  }

  _retry() {
    this.attempt += 1;
    // full jitter: spread a reconnect storm over the whole window
    const cap = Math.min(15000, 500 * 2 ** Math.min(this.attempt, 5));
    const delay = Math.random() * cap;
    this._status("reconnecting", `retrying in ${Math.round(delay / 100) / 10} s`);
    setTimeout(() => !this.stopped && this._connect(), delay);
  }

  _welcome(welcome) {
    this.attempt = 0;
    this.user = welcome.user;
    this.clockOffset = welcome.server_time - Date.now();
    if (welcome.token) this.token = welcome.token; // a guest keeps one identity across reconnects
    this._status("live");
    this._emit("_welcome", { type: "welcome", d: welcome });
    clearInterval(this.pinger);
    this.pinger = setInterval(() => this._ping(), 15000);
  }

  _ping() {
    const sent = Date.now();
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.pending.delete(id);
      if (this.ws) this.ws.close(4000, "ping timeout"); // a dead link: reconnect
    }, 10000);
    this.pending.set(id, { resolve: () => {}, reject: () => {}, timer, sent });
    this.ws.send(JSON.stringify({ op: "ping", id }));
  }

  _dispatch(msg) {
    if (msg.type === "ack" || msg.type === "error" || msg.type === "pong") {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.type === "pong") {
        const rtt = Date.now() - p.sent;
        this.clockOffset = msg.server_time + rtt / 2 - Date.now();
        return;
      }
      if (msg.type === "ack") p.resolve(msg.d);
      else p.reject(new RequestError(msg));
      return;
    }
    if (msg.type === "push" || msg.type === "snapshot") {
      this.positions[msg.topic] = { seq: msg.seq, epoch: msg.epoch };
    }
    this._emit(msg.topic, msg);
  }

  _emit(topic, msg) {
    for (const handler of this.handlers.get(topic) || []) {
      try {
        handler(msg);
      } catch (err) {
        console.error(`handler for ${topic} failed`, err);
      }
    }
  }
}

// What every page needs from its URL: the event (?event=) and a token (#token=, never sent to the server).
export function pageContext() {
  const params = new URLSearchParams(location.search);
  const hash = new URLSearchParams(location.hash.slice(1));
  return {
    event: params.get("event") || document.body.dataset.defaultEvent || "zgc-sco-2021",
    token: hash.get("token") || sessionStorage.getItem("plenary.token") || null,
  };
}

// Build DOM safely: strings always become text nodes, never HTML.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export async function api(path, { method = "GET", token = null, body = undefined } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw Object.assign(new Error((data && data.detail) || res.statusText), { status: res.status, data });
  return data;
}

export function statusBadge(node) {
  return ({ state, detail }) => {
    node.textContent = state === "live" ? "live" : `${state}${detail ? `: ${detail}` : ""}`;
    node.dataset.state = state;
  };
}
