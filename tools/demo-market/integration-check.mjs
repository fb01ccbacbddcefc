#!/usr/bin/env node
// Hand-run integration check of the demo bots against a running stack (not part of CI; see
// docs/demo-market.md). Starts bots.mjs, lets it run, samples the public book, stops it with
// SIGTERM and checks: exit code 0, trades on every symbol during the run, both sides of every
// book present, no refused request other than the expected races, and no open maker order left.
//
//   node tools/demo-market/integration-check.mjs --var <SPOTEX_VAR> --base-url http://127.0.0.1:P
//     [--seconds 60] [--symbols BTCUSDT,ETHUSDT,ETHBTC]
// The admin URL is gateway-1's direct address from <var>/run/gateway-1.addr (or gateway.addr).

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, sleep } from './lib/client.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const opt = { var: null, 'base-url': null, seconds: '60', symbols: 'BTCUSDT,ETHUSDT,ETHBTC' };
for (let i = 2; i < process.argv.length; i += 2) opt[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
if (!opt.var || !opt['base-url']) {
  console.error('usage: integration-check.mjs --var DIR --base-url URL [--seconds 60]');
  process.exit(1);
}
const symbols = opt.symbols.split(',');
const seconds = Number(opt.seconds);
const addrFile = ['gateway-1.addr', 'gateway.addr'].map((f) => join(opt.var, 'run', f)).find(existsSync);
const adminUrl = readFileSync(addrFile, 'utf8').split(/\s/)[0];
const stateFile = join(opt.var, 'demo', 'bots.json');
const client = new Client({ baseUrl: opt['base-url'], weightPerMinute: 600 });
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

const started = Date.now();
const bots = spawn(process.execPath, [join(here, 'bots.mjs'), '--base-url', opt['base-url'],
  '--admin-url', adminUrl, '--admin-token-file', join(opt.var, 'secrets', 'admin-token'),
  '--state-file', stateFile, '--symbols', opt.symbols], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
bots.stdout.on('data', (c) => {
  out += c;
  process.stdout.write(c);
});
const exited = new Promise((r) => bots.on('exit', (code, sig) => r({ code, sig })));

// Sample the books every 5 s once the bots run.
const twoSided = Object.fromEntries(symbols.map((s) => [s, 0]));
let samples = 0;
await sleep(8000);
while (Date.now() - started < seconds * 1000) {
  samples += 1;
  for (const s of symbols) {
    const r = await client.request('GET', '/api/v3/depth', { params: { symbol: s, limit: 20 } });
    if (r.json?.bids?.length > 0 && r.json?.asks?.length > 0) twoSided[s] += 1;
  }
  await sleep(5000);
}
bots.kill('SIGTERM');
const stopAt = Date.now();
const { code, sig } = await exited;
const runS = (stopAt - started) / 1000;
check(code === 0, `bots exited 0 on SIGTERM (code ${code}, signal ${sig}) within ${((Date.now() - stopAt) / 1000).toFixed(1)} s`);

for (const s of symbols) {
  const r = await client.request('GET', '/api/v3/trades', { params: { symbol: s, limit: 1000 } });
  const n = (r.json ?? []).filter((t) => t.time >= started).length;
  check(n > 0, `${s}: ${n} trades in ${runS.toFixed(0)} s (${((n / runS) * 60).toFixed(1)}/min)`);
  check(twoSided[s] >= samples - 1, `${s}: book two-sided in ${twoSided[s]}/${samples} samples`);
}

const state = JSON.parse(readFileSync(stateFile, 'utf8'));
for (const s of symbols) {
  const r = await client.request('GET', '/api/v3/openOrders', { signed: state.accounts.maker, params: { symbol: s } });
  check(r.status === 200 && r.json.length === 0, `${s}: maker has no open order after SIGTERM (${r.json?.length})`);
}
const refused = out.split('\n').filter((l) => / refused: | refused$/.test(l) || /refused: HTTP/.test(l));
check(refused.length === 0, `no refused request in the bots' log (${refused.length} lines)`);
for (const l of refused) console.log(`  ${l}`);
const stats = out.split('\n').filter((l) => /last \d+ s: /.test(l));
console.log(`stats lines: ${stats.length}`);
process.exit(failures.length === 0 ? 0 : 1);
