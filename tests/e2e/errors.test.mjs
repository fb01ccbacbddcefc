// Error answers of the REST gateway over raw HTTP (node:http, node:net, HMAC signing with
// node:crypto), so every byte is under the test's control: both clients' signature placements,
// bad, expired and replayed signatures, keys without the permission or from the wrong address,
// another user's order id, malformed HTTP, oversized headers and bodies, and one test per
// Binance error code the signed endpoints can return from outside (BINANCE_API.md §2, §5;
// docs/gateway-http.md, docs/auth.md §10). Every error must be {"code","msg"} with Binance's
// code and HTTP status, never a 5xx, and the server must keep serving afterwards.
//
// Run through run.sh (it sets SPOTEX_BASE_URL, SPOTEX_USERS and SPOTEX_VAR, whose admin token
// funds the users created here).

import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE_URL, SIGNED, USERS, assertError, clientId, createUser, deposit, hmacHex, rawExchange,
  rawRequest, signedRequest,
} from './lib.mjs';

const SYM = 'BTCUSDT';
// The raw-socket tests of the gateway's own HTTP parser go to a gateway replica directly when
// run.sh runs the stack behind HAProxy (docs/edge.md): HAProxy answers malformed HTTP before it
// (edge.test.mjs checks that answer), and keeps a client connection open when the gateway
// closes its own after a 413.
const PARSER = { baseUrl: process.env.SPOTEX_GATEWAY_DIRECT_URL ?? BASE_URL };
// A valid LIMIT BUY far below the reference price (never fills), within PERCENT_PRICE_BY_SIDE.
const LIMIT = { symbol: SYM, side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001',
  price: '40000' };
const DECIMAL_RANGE = "legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.";

// A signed request answered with `status` and Binance `code` (and `msg` when given).
async function expectError(opts, status, code, msg = undefined) {
  return assertError(await rawRequest(opts), status, code, msg);
}

// A signed request that must succeed; returns the parsed body.
async function ok(opts) {
  const res = await rawRequest(opts);
  assert.equal(res.status, 200, `${opts.method ?? 'GET'} ${opts.path}: ${res.text.slice(0, 300)}`);
  return res.json;
}

const orderTest = (user, params, extra = {}) =>
  signedRequest(user, 'POST', '/api/v3/order/test', params, extra);

describe('signatures and keys', { skip: SIGNED }, () => {
  let a;
  before(() => {
    a = USERS[0];
  });

  test('ccxt placement: POST with everything in the form body, signature last, empty query',
    async () => {
      const opts = orderTest(a, LIMIT, { placement: 'body' });
      assert.ok(!opts.path.includes('?') && opts.body.endsWith(opts.body.match(/signature=\w+$/)[0]));
      assert.deepEqual(await ok(opts), {});
    });

  test('@binance/spot placement: POST with everything in the query, empty JSON body', async () => {
    const opts = orderTest(a, LIMIT);
    assert.equal(opts.body, '');
    assert.equal(opts.headers['Content-Type'], 'application/json');
    assert.deepEqual(await ok(opts), {});
  });

  test('GET and DELETE with everything in the query; mixed query + body on POST', async () => {
    const acc = await ok(signedRequest(a, 'GET', '/api/v3/account'));
    assert.equal(acc.accountType, 'SPOT');
    const placed = await ok(signedRequest(a, 'POST', '/api/v3/order',
      { ...LIMIT, newClientOrderId: clientId('err-del'), newOrderRespType: 'ACK' }));
    const cancelled = await ok(signedRequest(a, 'DELETE', '/api/v3/order',
      { symbol: SYM, orderId: placed.orderId }));
    assert.equal(cancelled.status, 'CANCELED');
    // Query and body both signed: the payload is the query string followed by the body.
    const query = `symbol=${SYM}&side=BUY&type=LIMIT`;
    const body = `timeInForce=GTC&quantity=0.001&price=40000&timestamp=${Date.now()}`;
    const sig = hmacHex(a.apiSecret, query + body);
    assert.deepEqual(await ok({ method: 'POST', path: `/api/v3/order/test?${query}`,
      body: `${body}&signature=${sig}`,
      headers: { 'X-MBX-APIKEY': a.apiKey, 'Content-Type': 'application/x-www-form-urlencoded' } }),
    {});
  });

  test('an upper-case hex signature is accepted', async () => {
    const payload = `timestamp=${Date.now()}`;
    const sig = hmacHex(a.apiSecret, payload).toUpperCase();
    await ok({ path: `/api/v3/account?${payload}&signature=${sig}`,
      headers: { 'X-MBX-APIKEY': a.apiKey } });
  });

  test('wrong secret and a tampered parameter are -1022', async () => {
    const bad = 'Signature for this request is not valid.';
    await expectError(signedRequest(a, 'GET', '/api/v3/account', {}, { secret: 'x'.repeat(64) }),
      400, -1022, bad);
    await expectError(orderTest(a, LIMIT, { secret: 'x'.repeat(64), placement: 'body' }), 400,
      -1022, bad);
    // Signed for 0.001, sent with 0.002.
    const opts = orderTest(a, LIMIT);
    opts.path = opts.path.replace('quantity=0.001', 'quantity=0.002');
    await expectError(opts, 400, -1022, bad);
    const form = orderTest(a, LIMIT, { placement: 'body' });
    form.body = form.body.replace('price=40000', 'price=40001');
    await expectError(form, 400, -1022, bad);
  });

  test('timestamp outside the window is -1021: expired, and more than 1000 ms ahead', async () => {
    await expectError(signedRequest(a, 'GET', '/api/v3/account', {},
      { timestamp: Date.now() - 6000 }), 400, -1021,
    'Timestamp for this request is outside of the recvWindow.');
    await expectError(signedRequest(a, 'GET', '/api/v3/account', { recvWindow: 2000 },
      { timestamp: Date.now() - 3000 }), 400, -1021);
    await expectError(signedRequest(a, 'GET', '/api/v3/account', {},
      { timestamp: Date.now() + 1500 }), 400, -1021,
    "Timestamp for this request was 1000ms ahead of the server's time.");
    // The same age within a larger recvWindow is fine.
    await ok(signedRequest(a, 'GET', '/api/v3/account', { recvWindow: 20000 },
      { timestamp: Date.now() - 6000 }));
  });

  test('recvWindow 60001 is -1131; a malformed recvWindow is -1100', async () => {
    await expectError(signedRequest(a, 'GET', '/api/v3/account', { recvWindow: 60001 }), 400,
      -1131);
    await ok(signedRequest(a, 'GET', '/api/v3/account', { recvWindow: 60000 }));
    await expectError(signedRequest(a, 'GET', '/api/v3/account', { recvWindow: -1 }), 400, -1100);
    await expectError(signedRequest(a, 'GET', '/api/v3/account', { recvWindow: 'abc' }), 400,
      -1100);
  });

  test('missing signature or timestamp is -1102; a second signature is -1101', async () => {
    await expectError(signedRequest(a, 'GET', '/api/v3/account', {}, { signature: null }), 400,
      -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.");
    await expectError(signedRequest(a, 'GET', '/api/v3/account', {}, { timestamp: null }), 400,
      -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.");
    await expectError(signedRequest(a, 'GET', '/api/v3/account', 'timestamp=abc'), 400, -1102);
    await expectError(signedRequest(a, 'GET', '/api/v3/account', {},
      { signature: 'ab&signature=cd' }), 400, -1101);
  });

  test('a replayed POST (the same bytes twice) is -1022 the second time', async () => {
    for (const placement of ['query', 'body']) {
      const opts = orderTest(a, LIMIT, { placement });
      assert.deepEqual(await ok(opts), {});
      await expectError(opts, 400, -1022, 'Signature for this request is not valid.');
    }
    const placed = signedRequest(a, 'POST', '/api/v3/order',
      { ...LIMIT, newClientOrderId: clientId('err-rp'), newOrderRespType: 'ACK' });
    const first = await ok(placed);
    await expectError(placed, 400, -1022);
    await ok(signedRequest(a, 'DELETE', '/api/v3/order', { symbol: SYM, orderId: first.orderId }));
  });

  test('no API key or a malformed one is -2014 (401); an unknown one -2015 (401)', async () => {
    const fmt = 'API-key format invalid.';
    await expectError(signedRequest(a, 'GET', '/api/v3/account', {}, { apiKey: null }), 401,
      -2014, fmt);
    await expectError(signedRequest(a, 'GET', '/api/v3/account', {}, { apiKey: 'short' }), 401,
      -2014, fmt);
    await expectError(signedRequest(a, 'GET', '/api/v3/account', {},
      { apiKey: `${a.apiKey.slice(0, 63)}!` }), 401, -2014, fmt);
    await expectError(orderTest(a, LIMIT, { apiKey: null, placement: 'body' }), 401, -2014);
    await expectError(signedRequest(a, 'GET', '/api/v3/account', {}, { apiKey: 'Z'.repeat(64) }),
      401, -2015, 'Invalid API-key, IP, or permissions for action.');
  });
});

describe('permissions and other users\' orders', { skip: SIGNED }, () => {
  const denied = 'Invalid API-key, IP, or permissions for action.';

  test('a READ-only key reads but cannot place, test or cancel orders (-2015)', async () => {
    const ro = await createUser('err-ro', { permissions: 'READ' });
    await ok(signedRequest(ro, 'GET', '/api/v3/account'));
    await ok(signedRequest(ro, 'GET', '/api/v3/openOrders', { symbol: SYM }));
    await expectError(signedRequest(ro, 'POST', '/api/v3/order', LIMIT), 401, -2015, denied);
    await expectError(orderTest(ro, LIMIT, { placement: 'body' }), 401, -2015, denied);
    await expectError(signedRequest(ro, 'DELETE', '/api/v3/order', { symbol: SYM, orderId: 1 }),
      401, -2015, denied);
  });

  test('a TRADE-only key cannot read the account (-2015)', async () => {
    const to = await createUser('err-to', { permissions: 'TRADE' });
    await expectError(signedRequest(to, 'GET', '/api/v3/account'), 401, -2015, denied);
  });

  test('a key allowed from 10.0.0.1 only is refused from 127.0.0.1 (-2015)', async () => {
    const ip = await createUser('err-ip', { ipAllowList: '10.0.0.1' });
    await expectError(signedRequest(ip, 'GET', '/api/v3/account'), 401, -2015, denied);
    await expectError(orderTest(ip, LIMIT), 401, -2015, denied);
    // The same user's key allowed from loopback works: the refusal is the address.
    const lo = await createUser('err-ip-ok', { ipAllowList: '127.0.0.0/8' });
    await ok(signedRequest(lo, 'GET', '/api/v3/account'));
  });

  test('another user\'s order id answers exactly like a nonexistent one', async () => {
    const owner = USERS[0];
    const other = await createUser('err-other');
    const cid = clientId('err-own');
    const placed = await ok(signedRequest(owner, 'POST', '/api/v3/order',
      { ...LIMIT, newClientOrderId: cid, newOrderRespType: 'ACK' }));
    try {
      const missing = 987654321098;
      const same = async (method, params, code) => {
        const theirs = await rawRequest(signedRequest(other, method, '/api/v3/order',
          { symbol: SYM, ...params }));
        const none = await rawRequest(signedRequest(other, method, '/api/v3/order',
          { symbol: SYM, ...(params.orderId ? { orderId: missing } : { origClientOrderId: 'nope-x' }) }));
        assertError(theirs, 400, code);
        assert.equal(theirs.status, none.status);
        assert.equal(theirs.text, none.text, `${method} ${JSON.stringify(params)}`);
      };
      await same('GET', { orderId: placed.orderId }, -2013);
      await same('GET', { origClientOrderId: cid }, -2013);
      await same('DELETE', { orderId: placed.orderId }, -2011);
      await same('DELETE', { origClientOrderId: cid }, -2011);
      assertError(await rawRequest(signedRequest(other, 'GET', '/api/v3/order',
        { symbol: SYM, orderId: placed.orderId })), 400, -2013, 'Order does not exist.');
      assertError(await rawRequest(signedRequest(other, 'DELETE', '/api/v3/order',
        { symbol: SYM, orderId: placed.orderId })), 400, -2011, 'Unknown order sent.');
      // The order is untouched.
      const mine = await ok(signedRequest(owner, 'GET', '/api/v3/order',
        { symbol: SYM, orderId: placed.orderId }));
      assert.equal(mine.status, 'NEW');
    } finally {
      await ok(signedRequest(owner, 'DELETE', '/api/v3/order',
        { symbol: SYM, orderId: placed.orderId }));
    }
  });
});

describe('bad input', () => {
  test('malformed HTTP gets 400 -1000 and a closed connection; the server serves on', async () => {
    const cases = [
      'GARBAGE\r\n\r\n',
      'GET /api/v3/ping HTTP/9.9\r\n\r\n',
      'GET /api/v3/ping HTTP/1.1\r\nHost x\r\n\r\n',
      'GET /api/v3/ping HTTP/1.1\r\nHost: a\r\nX-A: \x01\r\n\r\n',
      'GET /api/v3/ping HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n',
      'POST /api/v3/order HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n',
      '\x00\x01\x02\xff\r\n\r\n',
    ];
    for (const raw of cases) {
      const r = await rawExchange(Buffer.from(raw, 'latin1'), PARSER);
      const what = JSON.stringify(raw);
      assert.match(r.text, /^HTTP\/1\.1 400 /, `${what}: ${r.text.slice(0, 100)}`);
      assert.ok(r.text.endsWith('{"code":-1000,"msg":"Malformed HTTP request."}'), what);
      assert.ok(r.closed, `${what}: connection closed`);
      assert.equal((await rawRequest({ path: '/api/v3/ping' })).status, 200, `ping after ${what}`);
    }
  });

  test('a header block over 8 KiB is 431; a body over 64 KiB is 413', async () => {
    assertError(await rawRequest({ path: '/api/v3/ping', headers: { 'X-Big': 'a'.repeat(9000) } }),
      431, -1000, 'Request header fields too large.');
    assertError(await rawRequest({ method: 'POST', path: '/api/v3/order',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `a=${'x'.repeat(70 * 1024)}` }), 413, -1000, 'Request body too large.');
    // Chunked, with no length announced: refused while reading.
    const chunk = 'x'.repeat(16 * 1024);
    let raw = 'POST /api/v3/order/test HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n' +
      'Content-Type: application/x-www-form-urlencoded\r\n\r\n';
    for (let i = 0; i < 6; i++) raw += `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
    raw += '0\r\n\r\n';
    const r = await rawExchange(raw, PARSER);
    assert.match(r.text, /^HTTP\/1\.1 413 /, r.text.slice(0, 100));
    assert.ok(r.closed);
    // The same on a raw socket: the connection is closed after the 431.
    const h = await rawExchange(`GET /api/v3/ping HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(9000)}` +
      '\r\n\r\n', PARSER);
    assert.match(h.text, /^HTTP\/1\.1 431 /);
    assert.ok(h.closed);
  });

  test('invalid UTF-8 or a control character in a parameter is -1100', async () => {
    const illegal = 'Illegal characters found in a parameter.';
    await expectError({ path: '/api/v3/depth?symbol=BTC%C3%28' }, 400, -1100, illegal);
    await expectError({ path: '/api/v3/depth?symbol=BTC%ED%A0%80' }, 400, -1100, illegal);
    await expectError({ path: '/api/v3/depth?symbol=BTC%01' }, 400, -1100, illegal);
    await expectError({ path: '/api/v3/depth?symbol=BTC%G1' }, 400, -1100, illegal);
    // Raw (not %-encoded) bytes above 0x7F in the request line.
    const r = await rawExchange(Buffer.from(
      'GET /api/v3/depth?symbol=\xffBTC HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', 'latin1'),
    PARSER);
    assert.match(r.text, /^HTTP\/1\.1 400 /);
    assert.ok(r.text.endsWith(`{"code":-1100,"msg":"${illegal}"}`), r.text);
  });

  test('signed bad input: UTF-8, duplicates, too many parameters', { skip: SIGNED }, async () => {
    const a = USERS[0];
    const base = 'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=40000';
    await expectError(orderTest(a, `${base}&newClientOrderId=%C3%28`), 400, -1100,
      'Illegal characters found in a parameter.');
    await expectError(orderTest(a, `${base}&symbol=BTCUSDT`), 400, -1101,
      'Duplicate values for a parameter detected.');
    await expectError(orderTest(a, `${base}&quantity=0.002`, { placement: 'body' }), 400, -1101);
    const many = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`p${i}`, '1']));
    await expectError(signedRequest(a, 'GET', '/api/v3/account', many), 400, -1101,
      'Too many parameters sent for this endpoint.');
  });

  test('numbers: exponent, letters, sign, precision, overflow, range', { skip: SIGNED }, async () => {
    const a = USERS[0];
    for (const [name, value] of [['quantity', '1e3'], ['quantity', 'abc'], ['quantity', '-1'],
      ['quantity', '+1'], ['quantity', ' 1'], ['quantity', '.5'], ['quantity', '1.'],
      ['quantity', '0x10'], ['quantity', 'NaN'], ['quantity', 'Infinity'], ['price', '-40000'],
      ['price', '4e4']]) {
      await expectError(orderTest(a, { ...LIMIT, [name]: value }), 400, -1100,
        `Illegal characters found in parameter '${name}'; ${DECIMAL_RANGE}`);
    }
    // More decimals than the asset's scale (8): -1111; within the scale but off the tick: -1013.
    await expectError(orderTest(a, { ...LIMIT, price: '40000.000000001' }), 400, -1111,
      "Parameter 'price' has too much precision.");
    await expectError(orderTest(a, { ...LIMIT, quantity: '0.000000001' }), 400, -1111,
      "Parameter 'quantity' has too much precision.");
    await expectError(orderTest(a, { ...LIMIT, price: '40000.001' }), 400, -1013,
      'Filter failure: PRICE_FILTER');
    // Huge values: never a 5xx. Beyond int64 units the decimal does not parse (-1100; the
    // generic getter's -1108 would do too); within it but above the filters, -1013.
    for (const [name, value] of [['quantity', '99999999999999999999'],
      ['price', '99999999999999999999.99']]) {
      const res = await rawRequest(orderTest(a, { ...LIMIT, [name]: value }));
      assert.ok([-1100, -1108].includes(res.json?.code), `${name}=${value}: ${res.text}`);
      assertError(res, 400, res.json.code);
    }
    await expectError(orderTest(a, { ...LIMIT, quantity: '9000.1' }), 400, -1013,
      'Filter failure: LOT_SIZE');
    await expectError(orderTest(a, { ...LIMIT, price: '1000000.01' }), 400, -1013,
      'Filter failure: PRICE_FILTER');
    await expectError(orderTest(a, { ...LIMIT, quantity: '0' }), 400, -1013, 'Invalid quantity.');
    // Integers: orderId, limit.
    await expectError(signedRequest(a, 'GET', '/api/v3/order', { symbol: SYM, orderId: '1e3' }),
      400, -1100, "Illegal characters found in parameter 'orderId'; legal range is '^[0-9]{1,20}$'.");
    await expectError(signedRequest(a, 'GET', '/api/v3/order', { symbol: SYM, orderId: -5 }),
      400, -1100);
    await expectError(signedRequest(a, 'GET', '/api/v3/order',
      { symbol: SYM, orderId: '99999999999999999999' }), 400, -1108,
    "Parameter 'orderId' overflowed.");
    await expectError(signedRequest(a, 'GET', '/api/v3/allOrders', { symbol: SYM, limit: 100000 }),
      400, -1100, "Illegal characters found in parameter 'limit'; legal range is '[1, 1000]'.");
    await expectError({ path: '/api/v3/depth?symbol=BTCUSDT&limit=abc' }, 400, -1100);
  });

  test('unknown parameter -1104, missing symbol -1102, lower-case side -1117', { skip: SIGNED },
    async () => {
      const a = USERS[0];
      await expectError(orderTest(a, { ...LIMIT, foo: 'bar' }), 400, -1104,
        "Not all sent parameters were read; read '8' parameter(s) but was sent '9'.");
      await expectError(signedRequest(a, 'GET', '/api/v3/account', { foo: 'bar' }), 400, -1104);
      await expectError({ path: '/api/v3/ping?foo=bar' }, 400, -1104);
      const { symbol: _s, ...noSymbol } = LIMIT;
      await expectError(orderTest(a, noSymbol), 400, -1102,
        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
      await expectError(orderTest(a, { ...LIMIT, symbol: '' }), 400, -1102);
      // Binance's enums are case-sensitive: 'buy' is an invalid side (§5: -1117).
      await expectError(orderTest(a, { ...LIMIT, side: 'buy' }), 400, -1117, 'Invalid side.');
      await expectError(orderTest(a, { ...LIMIT, type: 'limit' }), 400, -1116,
        'Invalid orderType.');
    });

  test('after all of it, ping and health still answer 200', async () => {
    assert.deepEqual((await rawRequest({ path: '/api/v3/ping' })).json, {});
    assert.equal((await rawRequest({ path: '/health' })).status, 200);
  });
});

describe('one test per error code of the signed endpoints', { skip: SIGNED }, () => {
  let a;
  let fresh; // a user with no funds
  before(async () => {
    a = USERS[0];
    fresh = await createUser('err-codes');
  });

  test('-1013 filter failures and invalid quantity', async () => {
    await expectError(orderTest(a, { ...LIMIT, quantity: '0.000001' }), 400, -1013,
      'Filter failure: LOT_SIZE');
    await expectError(orderTest(a, { ...LIMIT, price: '40000.005' }), 400, -1013,
      'Filter failure: PRICE_FILTER');
    await expectError(orderTest(a, { ...LIMIT, quantity: '0.00001', price: '100' }), 400, -1013,
      'Filter failure: NOTIONAL');
    await expectError(orderTest(a, { symbol: SYM, side: 'BUY', type: 'MARKET', quantity: '200' }),
      400, -1013, 'Filter failure: MARKET_LOT_SIZE');
  });

  test('-2010 insufficient balance, with the exact message ccxt maps', async () => {
    const msg = 'Account has insufficient balance for requested action.';
    await expectError(signedRequest(fresh, 'POST', '/api/v3/order', LIMIT), 400, -2010, msg);
    await deposit(fresh.userId, 'USDT', '30');
    // 0.001 x 40000 = 40 USDT > 30.
    await expectError(signedRequest(fresh, 'POST', '/api/v3/order', LIMIT, { placement: 'body' }),
      400, -2010, msg);
    await expectError(signedRequest(fresh, 'POST', '/api/v3/order',
      { symbol: SYM, side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001',
        price: '60000' }), 400, -2010, msg);
  });

  test('-2010 LIMIT_MAKER that would take, and a duplicate client order id', async () => {
    const b = USERS[1];
    const cid = clientId('err-dup');
    const sell = await ok(signedRequest(b, 'POST', '/api/v3/order', { symbol: 'ETHUSDT',
      side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '4000',
      newClientOrderId: cid, newOrderRespType: 'ACK' }));
    try {
      await expectError(signedRequest(b, 'POST', '/api/v3/order', { symbol: 'ETHUSDT',
        side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '4001',
        newClientOrderId: cid }), 400, -2010, 'Duplicate order sent.');
      await expectError(signedRequest(a, 'POST', '/api/v3/order', { symbol: 'ETHUSDT',
        side: 'BUY', type: 'LIMIT_MAKER', quantity: '0.01', price: '14000' }), 400, -2010,
      'Order would immediately match and take.');
    } finally {
      await ok(signedRequest(b, 'DELETE', '/api/v3/order', { symbol: 'ETHUSDT',
        orderId: sell.orderId }));
    }
  });

  test('-2011 unknown order on cancel, -2013 on query', async () => {
    await expectError(signedRequest(a, 'DELETE', '/api/v3/order',
      { symbol: SYM, orderId: 987654321098 }), 400, -2011, 'Unknown order sent.');
    await expectError(signedRequest(fresh, 'DELETE', '/api/v3/openOrders', { symbol: SYM }), 400,
      -2011, 'Unknown order sent.');
    await expectError(signedRequest(a, 'GET', '/api/v3/order',
      { symbol: SYM, origClientOrderId: 'no-such-order' }), 400, -2013, 'Order does not exist.');
  });

  test('-1121 invalid symbol', async () => {
    await expectError(orderTest(a, { ...LIMIT, symbol: 'NOPEUSDT' }), 400, -1121,
      'Invalid symbol.');
    await expectError(signedRequest(a, 'GET', '/api/v3/openOrders', { symbol: 'NOPEUSDT' }), 400,
      -1121, 'Invalid symbol.');
  });

  test('-1102 mandatory parameters', async () => {
    const { price: _p, ...noPrice } = LIMIT;
    await expectError(signedRequest(a, 'POST', '/api/v3/order', noPrice), 400, -1102,
      "Mandatory parameter 'price' was not sent, was empty/null, or malformed.");
    await expectError(signedRequest(a, 'POST', '/api/v3/order',
      { symbol: SYM, side: 'BUY', type: 'MARKET' }), 400, -1102,
    "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!");
    await expectError(signedRequest(a, 'DELETE', '/api/v3/order', { symbol: SYM }), 400, -1102,
      "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!");
    const { side: _s, ...noSide } = LIMIT;
    await expectError(orderTest(a, noSide), 400, -1102,
      "Mandatory parameter 'side' was not sent, was empty/null, or malformed.");
  });

  test('-1104 unread parameters', async () => {
    await expectError(signedRequest(a, 'DELETE', '/api/v3/order',
      { symbol: SYM, orderId: 1, bogus: 1 }), 400, -1104);
  });

  test('-1106 parameter not required; -1114 timeInForce on MARKET', async () => {
    await expectError(orderTest(a, { ...LIMIT, trailingDelta: '100' }), 400, -1106,
      "Parameter 'trailingDelta' sent when not required.");
    await expectError(signedRequest(a, 'POST', '/api/v3/order',
      { symbol: SYM, side: 'BUY', type: 'MARKET', quantity: '0.001', price: '100' }), 400, -1106);
    await expectError(signedRequest(a, 'POST', '/api/v3/order',
      { symbol: SYM, side: 'BUY', type: 'MARKET', quantity: '0.001', timeInForce: 'GTC' }), 400,
    -1114, 'TimeInForce parameter sent when not required.');
  });

  test('order/test runs the engine\'s shape checks too (§7.3: "the same validation")', async () => {
    await expectError(orderTest(a,
      { symbol: SYM, side: 'BUY', type: 'MARKET', quantity: '0.001', timeInForce: 'GTC' }), 400,
    -1114);
    await expectError(orderTest(a,
      { symbol: SYM, side: 'BUY', type: 'MARKET', quantity: '0.001', price: '100' }), 400, -1106,
    "Parameter 'price' sent when not required.");
  });

  test('-1115 / -1116 / -1117 invalid timeInForce, type, side', async () => {
    await expectError(orderTest(a, { ...LIMIT, timeInForce: 'GTD' }), 400, -1115,
      'Invalid timeInForce.');
    await expectError(orderTest(a, { ...LIMIT, type: 'STOP' }), 400, -1116, 'Invalid orderType.');
    await expectError(orderTest(a, { ...LIMIT, side: 'HOLD' }), 400, -1117, 'Invalid side.');
  });

  test('-1100 illegal characters (client order id), -1111 precision', async () => {
    await expectError(orderTest(a, { ...LIMIT, newClientOrderId: 'a b' }), 400, -1100,
      "Illegal characters found in parameter 'newClientOrderId'; legal range is " +
      "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.");
    await expectError(orderTest(a, { ...LIMIT, newClientOrderId: 'x'.repeat(37) }), 400, -1100);
    await expectError(orderTest(a, { ...LIMIT, quantity: '0.0010000001' }), 400, -1111);
  });

  test('-1127, -1128 myTrades ranges; -1130 invalid data; -1145 cancelRestrictions', async () => {
    await expectError(signedRequest(a, 'GET', '/api/v3/myTrades',
      { symbol: SYM, startTime: 1, endTime: 1 + 25 * 3600 * 1000 }), 400, -1127,
    'More than 24 hours between startTime and endTime.');
    await expectError(signedRequest(a, 'GET', '/api/v3/myTrades',
      { symbol: SYM, fromId: 1, startTime: 1 }), 400, -1128,
    'Combination of optional parameters invalid.');
    await expectError(orderTest(a, { ...LIMIT, newOrderRespType: 'ALL' }), 400, -1130,
      "Data sent for parameter 'newOrderRespType' is not valid.");
    await expectError(orderTest(a, { ...LIMIT, selfTradePreventionMode: 'TRANSFER_ALL' }), 400,
      -1130, "Data sent for parameter 'selfTradePreventionMode' is not valid.");
    await expectError(signedRequest(a, 'DELETE', '/api/v3/order',
      { symbol: SYM, orderId: 1, cancelRestrictions: 'ONLY_OLD' }), 400, -1145,
    'Invalid cancelRestrictions');
  });

  test('-2022 cancelReplace whose cancel fails, with its data', async () => {
    const res = await rawRequest(signedRequest(a, 'POST', '/api/v3/order/cancelReplace',
      { ...LIMIT, cancelReplaceMode: 'STOP_ON_FAILURE', cancelOrderId: 987654321098 }));
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.json, { code: -2022, msg: 'Order cancel-replace failed.',
      data: { cancelResult: 'FAILURE', newOrderResult: 'NOT_ATTEMPTED',
        cancelResponse: { code: -2011, msg: 'Unknown order sent.' }, newOrderResponse: null } });
  });

  test('-1021, -1022, -1131, -2014, -2015 on a trading endpoint', async () => {
    await expectError(signedRequest(a, 'POST', '/api/v3/order', LIMIT,
      { timestamp: Date.now() - 10000 }), 400, -1021);
    await expectError(signedRequest(a, 'POST', '/api/v3/order', LIMIT,
      { secret: 'y'.repeat(64) }), 400, -1022);
    await expectError(signedRequest(a, 'POST', '/api/v3/order', { ...LIMIT, recvWindow: 70000 }),
      400, -1131);
    await expectError(signedRequest(a, 'POST', '/api/v3/order', LIMIT, { apiKey: null }), 401,
      -2014);
    await expectError(signedRequest(a, 'POST', '/api/v3/order', LIMIT,
      { apiKey: 'Q'.repeat(64) }), 401, -2015);
  });

  test('-1015 over 100 orders per 10 s for one account (429, Retry-After)', async () => {
    // A user of its own, from an address of its own, so no other test is throttled.
    const u = await createUser('err-1015');
    let refused = null;
    for (let i = 0; i < 250 && !refused; i++) {
      const res = await rawRequest({ ...signedRequest(u, 'POST', '/api/v3/order', LIMIT),
        localAddress: '127.0.0.4' });
      if (res.status === 429) refused = res;
      else assertError(res, 400, -2010); // counted, then refused by the engine: no funds
    }
    assert.ok(refused, 'no 429 within 250 orders');
    assertError(refused, 429, -1015,
      'Too many new orders; current limit is 100 orders per 10 SECOND.');
    assert.equal(refused.headers['x-mbx-order-count-10s'], '100');
    assert.ok(Number(refused.headers['retry-after']) >= 1);
  });

  test('-1020 unknown path (404) and method (405); -1120 interval; -1002 admin', async () => {
    await expectError({ path: '/api/v3/nope' }, 404, -1020, 'This operation is not supported.');
    await expectError({ method: 'PUT', path: '/api/v3/ping' }, 405, -1020);
    await expectError({ path: '/api/v3/klines?symbol=BTCUSDT&interval=7m' }, 400, -1120);
    await expectError({ ...PARSER, method: 'POST', path: '/api/v1/admin/deposit',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Spotex-Admin-Token': 'no' },
      body: 'userId=1&asset=BTC&amount=1' }, 401, -1002);
  });
});
