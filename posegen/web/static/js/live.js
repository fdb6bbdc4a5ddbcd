// Live generation events over the WebSocket of API.md "Live updates". The handshake carries the
// session cookie; the auth message names no token. Every event's `seq` is remembered per
// generation, so a reconnect subscribes with `afterSeq` and the page sees each event exactly once,
// with no gap. Ephemeral events (no `seq`, e.g. `pose.progress`) are passed on as they come.

import { APP } from "./api.js";

const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];
const PING_EVERY_MS = 25000;
// Closes after which reconnecting cannot help: the session is gone, or the page's origin refused.
const FINAL_CLOSES = new Set([4401, 4403]);

export class LiveEvents {
  /**
   * onEvent({generationId, seq, kind, data, timestamp}) for each new event;
   * onState("connecting" | "live" | "offline" | "ended") when the connection changes.
   */
  constructor({ onEvent, onState = () => {} }) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.lastSeq = new Map();
    this.followed = new Set();
    this.attempt = 0;
    this.stopped = false;
    this.socket = null;
  }

  /** Receive `generationId`'s events after `afterSeq` (0: from the start), then live. */
  follow(generationId, afterSeq = 0) {
    this.followed.add(generationId);
    if (!this.lastSeq.has(generationId)) this.lastSeq.set(generationId, afterSeq);
    this.#subscribe(generationId);
  }

  start() {
    this.stopped = false;
    this.#connect();
    return this;
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pinger);
    this.socket?.close(1000);
  }

  #connect() {
    this.onState("connecting");
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}${APP}/ws`);
    this.socket = socket;
    socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "auth" })));
    socket.addEventListener("message", (message) => this.#receive(JSON.parse(message.data)));
    socket.addEventListener("close", (event) => {
      clearInterval(this.pinger);
      if (this.socket !== socket || this.stopped) return;
      if (FINAL_CLOSES.has(event.code)) {
        this.onState("ended");
        return;
      }
      this.onState("offline");
      const delay = RETRY_DELAYS_MS[Math.min(this.attempt, RETRY_DELAYS_MS.length - 1)];
      this.attempt += 1;
      setTimeout(() => this.#connect(), delay);
    });
  }

  #receive(message) {
    if (message.type === "connected") {
      this.attempt = 0;
      this.onState("live");
      for (const generationId of this.followed) this.#subscribe(generationId);
      this.pinger = setInterval(() => this.#send({ type: "ping" }), PING_EVERY_MS);
    } else if (message.type === "event") {
      if (typeof message.seq !== "number") {
        this.onEvent(message); // ephemeral: live only, never replayed
        return;
      }
      const last = this.lastSeq.get(message.generationId) ?? 0;
      if (message.seq <= last) return; // already seen (a replay overlapping live delivery)
      this.lastSeq.set(message.generationId, message.seq);
      this.onEvent(message);
    }
  }

  #subscribe(generationId) {
    this.#send({ type: "subscribe", generationId, afterSeq: this.lastSeq.get(generationId) ?? 0 });
  }

  #send(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
}
