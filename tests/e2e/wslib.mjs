// Helpers of the WebSocket end-to-end files (wsclients.test.mjs, userdata.test.mjs): traders
// with their own loopback source address, signed REST calls, a price window no other file's
// order sits in, and a raw WebSocket client that collects parsed messages and its close.
//
// Those files trade ETHBTC between users they create, at prices strictly inside whatever spread
// the earlier files left (freeWindow), so none of their orders can match another file's order,
// and they cancel what they leave (cancelAll).
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  WS_URL, createUser, dec, deposit, fmt, rawRequest, signedRequest, until, within,
} from './lib.mjs';

export const SYMBOL = 'ETHBTC';
export const LOWER = 'ethbtc';
export const TICK = dec('0.00001');
const REF = dec('0.06');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const rand = (n) => Math.floor(Math.random() * n);

// A loopback source address of its own for a user's requests: request weight is per client IP,
// so a file that sends many orders does not throttle the others.
export const loopback = () => `127.${1 + rand(254)}.${rand(256)}.${1 + rand(253)}`;

// A new user funded with ETH and BTC, with its own source address `ip`.
export async function trader(tag) {
  const u = await createUser(tag);
  await deposit(u.userId, 'ETH', '1000');
  await deposit(u.userId, 'BTC', '100');
  return { ...u, ip: loopback() };
}

// Signed REST call from the user's source address; asserts 200 and returns the body.
export async function signed(user, method, path, params) {
  const res = await rawRequest(signedRequest(user, method, path, params,
    { localAddress: user.ip }));
  assert.equal(res.status, 200, `${method} ${path} ${JSON.stringify(params)}: ${res.text}`);
  return res.json;
}

// The user's ETHBTC trades of one order (GET /api/v3/myTrades), once there are `n` of them. Behind
// the edge the read may reach the other replica, which learns of a fill from the event stream a
// moment after the replica that placed the order answered (docs/history-queries.md, "Freshness").
export const tradesOf = (user, orderId, n) => until(async () => {
  const xs = await signed(user, 'GET', '/api/v3/myTrades', { symbol: SYMBOL, orderId });
  return xs.length >= n ? xs : undefined;
}, 5000, () => `${n} trades of order ${orderId} in myTrades`);

// POST /api/v3/order on ETHBTC (ACK answer unless params say otherwise).
export const order = (user, params) => signed(user, 'POST', '/api/v3/order',
  { symbol: SYMBOL, newOrderRespType: 'ACK', ...params });

export async function publicGet(path) {
  const res = await rawRequest({ path });
  assert.equal(res.status, 200, `GET ${path}: ${res.text}`);
  return res.json;
}

// Cancels every open ETHBTC order of the users.
export async function cancelAll(users) {
  for (const u of users) {
    const open = await signed(u, 'GET', '/api/v3/openOrders', { symbol: SYMBOL });
    if (open.length) await signed(u, 'DELETE', '/api/v3/openOrders', { symbol: SYMBOL });
  }
}

// Prices strictly inside the spread other files left on ETHBTC, within 10 % of 0.06:
// {lo, hi} in units of 1e-8. An order of ours priced in [lo, hi] can only match our own.
export async function freeWindow() {
  const d = await publicGet(`/api/v3/depth?symbol=${SYMBOL}&limit=5`);
  let lo = REF - REF / 10n;
  let hi = REF + REF / 10n;
  if (d.bids.length && dec(d.bids[0][0]) + TICK > lo) lo = dec(d.bids[0][0]) + TICK;
  if (d.asks.length && dec(d.asks[0][0]) - TICK < hi) hi = dec(d.asks[0][0]) - TICK;
  assert.ok(hi - lo >= 100n * TICK, `ETHBTC spread too narrow for this file: ${JSON.stringify(d)}`);
  return { lo, hi };
}

// A price in 1e-8 units as ETHBTC's 5-decimal string.
export const price = (v) => fmt(v).replace(/0{3}$/, '');

// A raw WebSocket (ws package) on `path` of the gateway (or a full ws:// URL), its messages
// collected as parsed JSON ({binary} for binary ones), and its close {code, reason}.
// next() returns the message after the ones it already returned, waiting up to `ms`.
const sockets = new Set();

// Terminates every raw socket still open (a test that failed half-way leaves some, and an open
// socket keeps the file's process, and so node --test, waiting).
export function closeSockets() {
  for (const ws of sockets) ws.terminate();
  sockets.clear();
}

export function rawSocket(path, opts = {}) {
  const ws = new WebSocket(path.startsWith('ws') ? path : `${WS_URL}${path}`, opts);
  sockets.add(ws);
  ws.once('close', () => sockets.delete(ws));
  const messages = [];
  ws.on('message', (data, isBinary) => {
    messages.push(isBinary ? { binary: data } : JSON.parse(data.toString()));
  });
  ws.on('error', () => {}); // `closed` reports what happened
  const opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => {
        reject(new Error(`HTTP ${res.statusCode} ${body} (${path})`));
        req.destroy();
      });
      res.on('error', () => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    ws.once('error', reject);
  });
  opened.catch(() => {}); // a test that expects a refusal awaits it itself
  const closed = new Promise((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  let seen = 0;
  const next = async (ms = 5000) => {
    await until(() => (messages.length > seen ? true : undefined), ms,
      () => `message #${seen + 1} on ${path}`);
    return messages[seen++];
  };
  return { ws, messages, opened, closed, next,
    send: (obj) => ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)) };
}

// Opens a raw socket and waits for the open (bounded).
export async function openSocket(path, opts = {}) {
  const s = rawSocket(path, opts);
  await within(s.opened, 5000, `opening ${path}`);
  return s;
}
