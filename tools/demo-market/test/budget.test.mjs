// Client-side rate budgets, request weights and signing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { SlidingWindow, TokenBucket, retryDelayMs } from '../lib/budget.mjs';
import { Client, hmacHex, requestWeight } from '../lib/client.mjs';

test('a sliding window never allows more than its limit in any window', () => {
  const w = new SlidingWindow(10000, 25);
  for (let i = 0; i < 25; i += 1) {
    assert.ok(w.canSpend(1, 1000 + i));
    w.spend(1, 1000 + i);
  }
  assert.equal(w.available(1100), 0);
  assert.equal(w.canSpend(1, 10999), false);
  assert.equal(w.waitFor(1, 1100), 1000 + 10000 - 1100);
  assert.equal(w.available(11000), 1); // the first one left the window
  assert.equal(w.available(20000), 25);
  assert.equal(w.waitFor(26, 0), Infinity);
});

test('a token bucket paces to its rate after the burst', () => {
  const b = new TokenBucket(10, 2, 0);
  assert.equal(b.available(0), 10);
  b.spend(10, 0);
  assert.equal(b.available(400), 0);
  assert.equal(b.available(1000), 2);
  assert.equal(b.available(100000), 10); // capped
});

test('Retry-After wins over the exponential back-off', () => {
  assert.equal(retryDelayMs('7', 0), 7000);
  assert.equal(retryDelayMs('0', 0), 1000);
  assert.equal(retryDelayMs(null, 0), 500);
  assert.equal(retryDelayMs(null, 3), 4000);
  assert.equal(retryDelayMs(undefined, 30), 30000);
});

test('request weights match the gateway for the endpoints the bots use', () => {
  assert.equal(requestWeight('GET', '/api/v3/openOrders', { symbol: 'X' }), 6);
  assert.equal(requestWeight('GET', '/api/v3/openOrders', {}), 80);
  assert.equal(requestWeight('DELETE', '/api/v3/openOrders', { symbol: 'X' }), 1);
  assert.equal(requestWeight('GET', '/api/v3/account'), 20);
  assert.equal(requestWeight('POST', '/api/v3/order'), 1);
  assert.equal(requestWeight('POST', '/api/v3/order/cancelReplace'), 1);
  assert.equal(requestWeight('POST', '/api/v1/users'), 100);
});

test('HMAC signature matches the documented example', () => {
  assert.equal(hmacHex('NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j',
    'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559'),
  'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71');
});

test('signed requests carry the key and a valid signature; 429 pauses the client', async () => {
  const seen = [];
  let refuse = false;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, body, key: req.headers['x-mbx-apikey'] });
      if (refuse) {
        res.writeHead(429, { 'Retry-After': '2', 'Content-Type': 'application/json' });
        res.end('{"code":-1003,"msg":"Too much request weight used"}');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-MBX-USED-WEIGHT-1M': '42' });
      res.end('{}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const client = new Client({ baseUrl: `http://127.0.0.1:${server.address().port}` });
    const acct = { apiKey: 'k'.repeat(64), apiSecret: 's3cret' };
    await client.request('POST', '/api/v3/order', { signed: acct, params: { symbol: 'BTCUSDT', price: '1.10' } });
    await client.request('GET', '/api/v3/openOrders', { signed: acct, params: { symbol: 'BTCUSDT' } });
    const [post, get] = seen;
    assert.equal(post.key, acct.apiKey);
    assert.equal(post.url, '/api/v3/order');
    const m = /^(symbol=BTCUSDT&price=1\.10&recvWindow=10000&timestamp=\d+)&signature=([0-9a-f]{64})$/.exec(post.body);
    assert.ok(m, post.body);
    assert.equal(m[2], hmacHex('s3cret', m[1]));
    const q = /^\/api\/v3\/openOrders\?(symbol=BTCUSDT&recvWindow=10000&timestamp=\d+)&signature=([0-9a-f]{64})$/.exec(get.url);
    assert.ok(q, get.url);
    assert.equal(q[2], hmacHex('s3cret', q[1]));
    assert.equal(client.ipWeightUsed, 42);
    assert.equal(client.stats.weight, 7);
    refuse = true;
    const r = await client.request('GET', '/api/v3/ping');
    assert.equal(r.status, 429);
    assert.ok(client.pausedUntil >= Date.now() + 1500, 'paused for Retry-After');
    await assert.rejects(client.request('GET', '/api/v3/ping', { noWait: true }), /budget/);
  } finally {
    server.close();
  }
});
