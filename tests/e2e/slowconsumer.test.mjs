// A slow consumer (BINANCE_API.md §8, issue 5 §3): a client that subscribes to busy streams and
// then stops reading while orders flow must be disconnected by the server (its bounded send
// queue overflows: close 1008 "slow consumer", or only the TCP close when the client's socket
// is too full for the close frame), while another client on the same streams keeps receiving
// every trade and every depth diff, in order and gap-free. The server's close is seen in
// /proc/net/tcp (the gateway's end of the connection leaves ESTABLISHED), so the slow client
// never has to read to learn it.
//
// The slow client is a few lines of python3 (an install-deps.sh package): on loopback the
// kernel would otherwise buffer megabytes for a client that stops reading (the server's send
// buffer is sized from the 64 KiB loopback MSS), and node cannot set socket options. With a
// 536-byte MSS and a 4 KiB receive buffer the kernel holds little, so the server's own send
// queue (16384 messages) is what fills.
//
// Its own file: node --test's timeout (run.sh: 60 s) applies to each file as a whole, and the
// flow needed to fill the queue (16384 messages) takes a good part of it. Orders are ETHBTC
// maker/taker pairs between users made here, inside the spread other files left (wslib.mjs),
// from random loopback source addresses, and leave nothing on the book.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { BASE_URL, SIGNED, rawRequest, until, within } from './lib.mjs';
import {
  LOWER, SYMBOL, TICK, cancelAll, closeSockets, freeWindow, order, price, publicGet, rawSocket,
  sleep, trader,
} from './wslib.mjs';

after(closeSockets); // whatever a failed test left open, so the file can end

// The slow client talks to a gateway replica directly when run.sh runs the stack behind HAProxy
// (docs/edge.md): this is the gateway's own slow-consumer limit, and HAProxy in between would
// add its socket buffers (megabytes on loopback) and keep its end of the client's connection
// open while it still holds data for it.
const GATEWAY_URL = process.env.SPOTEX_GATEWAY_DIRECT_URL ?? BASE_URL;

// The TCP state of the gateway's end of the connection whose client port is `clientPort`
// ('01' ESTABLISHED, ...), or null when it is gone. Read from /proc, so the client never has to
// read from its socket to learn that the server closed it.
function serverSideState(clientPort) {
  const gw = Number(new URL(GATEWAY_URL).port);
  const hex = (n) => n.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    if (f[1].endsWith(`:${hex(gw)}`) && f[2].endsWith(`:${hex(clientPort)}`)) return f[3];
  }
  return null;
}

// The slow client (python3): small MSS and receive buffer, the upgrade, its status line and
// local port on stdout, then no reading until stdin says "read": it then reads to the end and
// prints the close code it finds ("close <code>", or "eof" without a close frame) and how many
// text frames it got.
const SLOW_CLIENT = `
import socket, sys, os, base64
port, path = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
s.connect(("127.0.0.1", port))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET %s HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
           "Sec-WebSocket-Key: %s\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n" % (path, key)).encode())
head = b""
while not head.endswith(b"\\r\\n\\r\\n"):
    c = s.recv(1)
    if not c:
        break
    head += c
print(head.split(b"\\r\\n")[0].decode(), s.getsockname()[1], flush=True)
sys.stdin.readline()
s.settimeout(15)
data = b""
try:
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
except OSError:
    pass
i, frames, code = 0, 0, None
while i + 2 <= len(data):
    op, n, j = data[i] & 15, data[i + 1] & 127, i + 2
    if n == 126:
        n, j = int.from_bytes(data[j:j + 2], "big"), j + 2
    elif n == 127:
        n, j = int.from_bytes(data[j:j + 8], "big"), j + 8
    if j + n > len(data):
        break
    if op == 1:
        frames += 1
    if op == 8 and n >= 2:
        code = int.from_bytes(data[j:j + 2], "big")
    i = j + n
print("close %d" % code if code is not None else "eof", frames, flush=True)
`;

const HAVE_PYTHON = spawnSync('python3', ['-c', 'pass']).status === 0;

// Starts the slow client on `path`; resolves {child, port, lines} once it is upgraded.
async function startSlowClient(path) {
  const port = Number(new URL(GATEWAY_URL).port);
  const child = spawn('python3', ['-c', SLOW_CLIENT, String(port), path],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  let rest = '';
  child.stdout.on('data', (c) => {
    rest += c;
    const parts = rest.split('\n');
    rest = parts.pop();
    lines.push(...parts);
  });
  const first = await until(() => lines[0], 10000, () => 'the slow client\'s upgrade');
  const m = /^HTTP\/1\.1 101 \S+ (\d+)$/.exec(first.replace(/ Switching Protocols/, ' x'));
  assert.ok(m, `slow client upgrade: ${first}`);
  return { child, port: Number(m[1]), lines };
}

// Maker/taker pairs pumping orders in parallel; each user stays under the ORDERS limit.
const PAIRS = 8;

describe('slow consumer', { skip: SIGNED || (HAVE_PYTHON ? false : 'no python3 (scripts/install-deps.sh)') }, () => {
  let slowChild = null;
  const users = [];
  after(async () => {
    if (slowChild && slowChild.exitCode === null) slowChild.kill();
    if (users.length) await cancelAll(users);
  });

  test('a client that stops reading is disconnected; a reading client on the same streams gets everything in order',
    async () => {
      const pairs = [];
      for (let i = 0; i < PAIRS; i++) {
        // One at a time: registration hashes passwords on a bounded pool (503 -1008 when busy).
        const m = await trader('wsc-slow-m');
        const t = await trader('wsc-slow-t');
        users.push(m, t);
        pairs.push([m, t]);
      }
      const win = await freeWindow();
      const p = price(win.lo + 5n * TICK);

      // The slow one holds every stream of every symbol, so its queue fills fastest.
      const names = [];
      for (const s of ['btcusdt', 'ethusdt', 'bnbusdt', 'ethbtc']) {
        names.push(`${s}@trade`, `${s}@aggTrade`, `${s}@depth`, `${s}@depth@100ms`, `${s}@bookTicker`,
          `${s}@miniTicker`, `${s}@ticker`, `${s}@ticker_1h`, `${s}@ticker_4h`, `${s}@ticker_1d`);
        for (const n of [5, 10, 20]) names.push(`${s}@depth${n}`, `${s}@depth${n}@100ms`);
        for (const i of ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d',
          '3d', '1w', '1M']) names.push(`${s}@kline_${i}`);
      }
      names.push('!miniTicker@arr', '!ticker@arr');
      const good = rawSocket(`/stream?streams=${LOWER}@trade/${LOWER}@depth`);
      await within(good.opened, 5000, 'opening the reading connection');
      const slow = await startSlowClient(`/stream?streams=${names.join('/')}`);
      slowChild = slow.child;
      const slowPort = slow.port;
      assert.equal(serverSideState(slowPort), '01');

      // Maker sells q at p, its taker buys q at p (IOC): every taker fills against some maker
      // at p (equal quantities, makers first), so nothing is left on the book.
      const tradeIds = [];
      let stop = false;
      const deadline = Date.now() + 40000;
      const pump = async ([m, t]) => {
        let windowStart = Date.now();
        let inWindow = 0;
        while (!stop && Date.now() < deadline) {
          if (inWindow >= 48) { // 2 orders per user per round, ORDERS limit 100 per 10 s
            await sleep(Math.max(0, windowStart + 10100 - Date.now()));
            windowStart = Date.now();
            inWindow = 0;
          }
          inWindow += 1;
          await order(m, { side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: p });
          const r = await order(t, { side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', quantity: '0.010',
            price: p, newOrderRespType: 'FULL' });
          assert.equal(r.status, 'FILLED', `taker: ${JSON.stringify(r)}`);
          for (const f of r.fills) tradeIds.push(f.tradeId);
        }
      };
      const pumps = Promise.all(pairs.map(pump));
      try {
        await until(() => (serverSideState(slowPort) !== '01' ? true : undefined), 42000,
          () => `the server never dropped the slow client (${tradeIds.length} trades, ` +
            `the reading client got ${good.messages.length} messages)`);
      } finally {
        stop = true;
        await pumps;
      }
      assert.ok(!good.ws._socket.destroyed && good.ws.readyState === 1,
        'the reading client is still connected');

      // The reading client got every trade, in order, and gap-free depth diffs.
      tradeIds.sort((a, b) => a - b);
      const got = () => good.messages.filter((x) => x.stream === `${LOWER}@trade`).map((x) => x.data.t);
      await until(() => (got().length >= tradeIds.length ? true : undefined), 10000,
        () => `${got().length} of ${tradeIds.length} trades`);
      assert.deepEqual(got(), tradeIds);
      const diffs = good.messages.filter((x) => x.stream === `${LOWER}@depth`).map((x) => x.data);
      for (let i = 1; i < diffs.length; i++) {
        assert.equal(diffs[i].U, diffs[i - 1].u + 1, `depth diff ${i}: U after u=${diffs[i - 1].u}`);
      }
      const depth = await publicGet(`/api/v3/depth?symbol=${SYMBOL}&limit=1`);
      assert.equal(diffs.at(-1).u, depth.lastUpdateId);

      // Reading again, the slow client finds its connection closed: 1008 "slow consumer" when
      // the close frame made it out, else only the TCP close; it got fewer trades than exist.
      slow.child.stdin.write('read\n');
      const last = await until(() => slow.lines[1], 20000, () => 'the slow client\'s end');
      const [, code, frames] = /^(close \d+|eof) (\d+)$/.exec(last) ?? [];
      assert.ok(code === 'close 1008' || code === 'eof', `slow client: ${last}`);
      assert.ok(Number(frames) < tradeIds.length * 8, `the slow client got ${frames} messages`);
      good.ws.close();
      const health = await rawRequest({ path: '/health' });
      assert.equal(health.status, 200, `/health: ${health.text}`);
    });
});

