import type { ErrorBody, MeResponse } from "@portal/contracts";

/** An API failure with the gateway's error code and message. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onUnauthorized: () => void = () => {};

/** Remember the session's CSRF token (from sign-in, sign-up or /me). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when the session has ended (401), so the app can show the sign-in page. */
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

/** Call the portal or admin JSON API; mutations carry the CSRF token. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiFailure(res.status, "invalid_response", `Unexpected response (${res.status}).`);
  }
  if (!res.ok) {
    const error = (json as { error?: ErrorBody } | null)?.error;
    if (res.status === 401 && !path.startsWith("/portal/api/auth/")) onUnauthorized();
    throw new ApiFailure(
      res.status,
      error?.code ?? "error",
      error?.message ?? `Request failed (${res.status}).`,
      error?.details,
    );
  }
  return json as T;
}

/** The signed-in user, or null when there is no session. */
export async function loadMe(): Promise<MeResponse | null> {
  try {
    const me = await api<MeResponse>("GET", "/portal/api/me");
    setCsrfToken(me.csrf_token);
    return me;
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 401) return null;
    throw err;
  }
}

/** Format micro-USD (decimal string) as dollars with up to 6 decimals. */
export function formatUsd(micros: string | number | bigint): string {
  const n = BigInt(micros);
  const whole = n / 1_000_000n;
  const frac = (n % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return `$${whole}${frac ? `.${frac.padEnd(2, "0")}` : ".00"}`;
}

/** A short local date-time, or an em dash. */
export function formatDate(iso: string | null): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
