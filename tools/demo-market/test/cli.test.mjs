// The CLI's guard rails: arguments, local-only URLs, and giving up on an unreachable exchange
// with exit code 2 (the stack relies on these exit codes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bots = join(dirname(fileURLToPath(import.meta.url)), '..', 'bots.mjs');

function runBots(args) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SPOTEX_DEMO_')) delete env[k];
  return spawnSync(process.execPath, [bots, ...args], { encoding: 'utf8', env, timeout: 20000 });
}

// A loopback port nothing listens on (bound, then released).
async function closedPort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

test('missing or unknown arguments exit 1 with a usage line', () => {
  const r = runBots([]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--base-url is required/);
  const u = runBots(['--nope', 'x']);
  assert.equal(u.status, 1);
  assert.match(u.stderr, /unknown argument '--nope'/);
});

test('only loopback URLs are accepted', () => {
  const r = runBots(['--base-url', 'http://10.0.0.1:8080', '--admin-url', 'http://127.0.0.1:1',
    '--admin-token-file', '/nonexistent', '--state-file', '/nonexistent']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /local only/);
});

test('an unreachable exchange at start exits 2 after the timeout', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-market-cli-'));
  try {
    writeFileSync(join(dir, 'admin-token'), 'x'.repeat(32));
    const port = await closedPort();
    const t0 = Date.now();
    const r = runBots(['--base-url', `http://127.0.0.1:${port}`, '--admin-url', `http://127.0.0.1:${port}`,
      '--admin-token-file', join(dir, 'admin-token'), '--state-file', join(dir, 'bots.json'),
      '--start-timeout-s', '1']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /unreachable for 1 s \(ECONNREFUSED\)/);
    assert.ok(Date.now() - t0 < 10000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
