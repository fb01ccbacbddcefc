// HTTP client of the bots: Binance HMAC signing (BINANCE_API.md §2), Bearer sessions and the
// admin token (docs/api-v1.md), request-weight accounting and the pause a 429/418 asks for.
// Every request has a timeout. One instance per process; not re-entrant across threads (Node's
// single event loop).

import { createHmac } from 'node:crypto';
import { SlidingWindow, retryDelayMs } from './budget.mjs';

export const hmacHex = (secret, payload) =>
  createHmac('sha256', secret).update(payload).digest('hex');

// "a=1&b=x%20y" from an object; undefined values are left out.
export function formEncode(params) {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
}

// The weight the gateway charges (src/gateway/api/request_limits.cc), for the endpoints the bots
// use; 1 for the rest. POST users/session weigh 100.
export function requestWeight(method, path, params = {}) {
  if (path === '/api/v1/users' || path === '/api/v1/session') return method === 'POST' ? 100 : 1;
  switch (path) {
    case '/api/v3/exchangeInfo': return 20;
    case '/api/v3/trades': return 25;
    case '/api/v3/account': return 20;
    case '/api/v3/openOrders': return method === 'DELETE' ? 1 : params.symbol ? 6 : 80;
    case '/api/v3/order': return method === 'GET' ? 4 : 1;
    default: return 1;
  }
}

export class Client {
  // baseUrl: the public API; weightPerMinute: this process's own budget (a quarter of the
  // IP's limit); log: (line) => void; timeoutMs per request.
  // shouldStop: () => bool; a wait for budget ends with an error once it returns true.
  constructor({ baseUrl, weightPerMinute = 1500, timeoutMs = 5000, log = () => {},
    shouldStop = () => false }) {
    this.shouldStop = shouldStop;
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.weight = new SlidingWindow(60000, weightPerMinute);
    this.timeoutMs = timeoutMs;
    this.log = log;
    this.pausedUntil = 0; // after a 429 -1003 / 418: no request at all until then
    this.ipWeightUsed = 0; // X-MBX-USED-WEIGHT-1M of the last answer (the whole IP's use)
    this.stats = { requests: 0, weight: 0, status: {}, codes: {} };
  }

  // Sends one request and returns {status, json, text, headers}; never throws for an HTTP
  // answer, throws on a network error or timeout. Waits for the weight budget and any pause.
  // opts: {params, signed: {apiKey, apiSecret}, bearer, admin, baseUrl, timeoutMs, noWait}
  async request(method, path, opts = {}) {
    const params = { ...(opts.params ?? {}) };
    const weight = requestWeight(method, path, params);
    await this.waitTurn(weight, opts.noWait);
    const headers = {};
    let payload = formEncode(params);
    if (opts.signed) {
      payload += `${payload ? '&' : ''}recvWindow=10000&timestamp=${Date.now()}`;
      payload += `&signature=${hmacHex(opts.signed.apiSecret, payload)}`;
      headers['X-MBX-APIKEY'] = opts.signed.apiKey;
    }
    if (opts.bearer) headers.Authorization = `Bearer ${opts.bearer}`;
    if (opts.admin) headers['X-Spotex-Admin-Token'] = opts.admin;
    let url = `${opts.baseUrl ?? this.baseUrl}${path}`;
    let body;
    if (method === 'POST' || method === 'PUT') {
      body = payload;
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else if (payload) {
      url += `?${payload}`;
    }
    this.weight.spend(weight, Date.now());
    this.stats.requests += 1;
    this.stats.weight += weight;
    const res = await fetch(url, {
      method, headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? this.timeoutMs),
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    const used = Number.parseInt(res.headers.get('x-mbx-used-weight-1m') ?? '', 10);
    if (Number.isFinite(used)) this.ipWeightUsed = used;
    this.stats.status[res.status] = (this.stats.status[res.status] ?? 0) + 1;
    if (res.status >= 400 && json && typeof json.code === 'number') {
      this.stats.codes[json.code] = (this.stats.codes[json.code] ?? 0) + 1;
    }
    if (res.status === 418 || (res.status === 429 && json?.code !== -1015)) {
      const ms = retryDelayMs(res.headers.get('retry-after'), 3);
      this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
      this.log(`rate limited: HTTP ${res.status} ${json?.code ?? ''}, pausing ${Math.round(ms / 1000)} s`);
    }
    return { status: res.status, json, text, headers: res.headers };
  }

  async waitTurn(weight, noWait) {
    for (;;) {
      const now = Date.now();
      const wait = Math.max(this.pausedUntil - now, this.weight.waitFor(weight, now));
      if (wait <= 0) return;
      if (noWait || this.shouldStop()) throw new Error('rate budget exhausted');
      await sleep(Math.min(wait, 1000));
    }
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
