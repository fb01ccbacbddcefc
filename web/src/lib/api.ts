// REST client of the screen. Same origin only: the page is served by the gateway (or HAProxy),
// so no CORS. The signed-in user's requests are authenticated by the session cookie the gateway
// set at login (HttpOnly, SameSite=Strict: the page never sees the token, and never holds an API
// secret); each carries the X-Spotex-CSRF header the gateway demands of cookie-authenticated
// requests, which a cross-site form or script cannot send.

/** An answer that is not a success: Binance's {code,msg} when the server sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    msg: string,
  ) {
    super(msg);
    this.name = 'ApiError';
  }
  /** "-2010 Account has insufficient balance…" as shown to the user. */
  get display(): string {
    return this.code !== 0 ? `${this.code}: ${this.message}` : this.message;
  }
}

export type Params = Record<string, string | number | boolean | undefined>;

export const CSRF_HEADER = 'X-Spotex-CSRF';

function encode(params: Params): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.append(k, String(v));
  return q.toString();
}

/**
 * One request. GET/DELETE send the parameters in the query, POST/PUT as a form body (as
 * Binance's clients do). Resolves to the parsed JSON; rejects with ApiError.
 */
export async function request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string,
  params: Params = {}, opts: { signal?: AbortSignal } = {}): Promise<T> {
  const body = method === 'POST' || method === 'PUT' ? encode(params) : undefined;
  const query = body === undefined ? encode(params) : '';
  const url = query ? `${path}?${query}` : path;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers: {
        [CSRF_HEADER]: '1',
        ...(body !== undefined ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
      },
      body,
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 0, 'The exchange cannot be reached. Check the connection and retry.');
  }
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: handled below */
  }
  if (!res.ok) {
    const e = json as { code?: number; msg?: string } | undefined;
    if (e && typeof e.code === 'number' && typeof e.msg === 'string') throw new ApiError(res.status, e.code, e.msg);
    throw new ApiError(res.status, 0, `HTTP ${res.status} ${res.statusText}`);
  }
  return json as T;
}

export const get = <T>(path: string, params?: Params, opts?: { signal?: AbortSignal }) =>
  request<T>('GET', path, params, opts);
export const post = <T>(path: string, params?: Params) => request<T>('POST', path, params);
export const del = <T>(path: string, params?: Params) => request<T>('DELETE', path, params);

/** ws:// or wss:// URL of a path on this origin. */
export function wsUrl(path: string): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${path}`;
}
