// The JSON API, called the way any client calls it: same paths, same envelope. The session is the
// HttpOnly cookie the browser sends by itself; writes add the page's CSRF token. No token is ever
// held by script, put in a URL or stored.

import { t, has } from "./i18n.js";

export const APP = "/api/apps/pose-generator";
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class ApiError extends Error {
  constructor(status, error, retryAfter) {
    super(error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = error?.code ?? (status === 0 ? "NETWORK" : "UNKNOWN");
    this.details = error?.details ?? {};
    this.field = error?.field ?? null;
    this.retryAfter = retryAfter;
  }

  /** The page's own words for this error (errors.<CODE>), never the API's English message. */
  get text() {
    const params = { ...this.details, seconds: this.retryAfter ?? "" };
    return has(`errors.${this.code}`) ? t(`errors.${this.code}`, params) : t("errors.UNKNOWN");
  }
}

/**
 * Call the API. `body` is sent as JSON, `form` (FormData) as multipart; `idempotencyKey` sets the
 * header of the same name. Resolves to the parsed JSON (null for 204); rejects with ApiError.
 */
export async function api(path, { method = "GET", body, form, idempotencyKey, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: form ?? (body === undefined ? undefined : JSON.stringify(body)),
      credentials: "same-origin",
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, null, null);
  }
  if (response.status === 204) return null;
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401 && path !== "/api/auth/session") {
      // The session ended (signed out elsewhere, expired): back to the sign-in page.
      window.location.assign(`/signin?next=${encodeURIComponent(window.location.pathname)}`);
    }
    throw new ApiError(response.status, payload?.error, response.headers.get("Retry-After"));
  }
  return payload;
}

/** A fresh Idempotency-Key for one user action (a double click sends the same one twice). */
export function newIdempotencyKey() {
  return crypto.randomUUID();
}

/** `?a=1&b=2` of the defined, non-empty values of `params`. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
