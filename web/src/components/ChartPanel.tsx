// The chart panel: candlesticks with volume (TradingView Lightweight Charts, its attribution logo
// left on) fed by REST klines (limit 500) and updated live from `@kline_<interval>`, interval
// buttons, and a depth-chart view of the local order book's cumulative bids and asks drawn on a
// canvas. The chart library plots numbers: prices become Numbers only here, for drawing; nothing
// is computed with them.
import { useEffect, useRef, useState } from 'react';
import {
  CandlestickSeries, HistogramSeries, createChart, type IChartApi, type ISeriesApi, type UTCTimestamp,
} from 'lightweight-charts';
import { useApp } from '../state';
import { INTERVALS, setChartInterval, symbolSteps, useMarketData, type MarketState } from '../lib/marketStream';
import { D, type Dec } from '../lib/decimal';
import type { Kline } from '../lib/types';
import './ChartPanel.css';

const BUY = '#0ecb81';
const SELL = '#f6465d';
const BUY_VOL = 'rgba(14, 203, 129, 0.45)';
const SELL_VOL = 'rgba(246, 70, 93, 0.45)';
/** Levels per side the depth chart draws. */
const DEPTH_LEVELS = 200;

const candle = (k: Kline) => ({
  time: (k.openTime / 1000) as UTCTimestamp, open: Number(k.open), high: Number(k.high), low: Number(k.low), close: Number(k.close),
});
const volume = (k: Kline) => ({
  time: (k.openTime / 1000) as UTCTimestamp, value: Number(k.volume), color: D(k.close).gte(D(k.open)) ? BUY_VOL : SELL_VOL,
});

export function ChartPanel() {
  const { symbol, symbolInfo, setMarketLink } = useApp();
  const m = useMarketData(symbol, setMarketLink);
  const [view, setView] = useState<'candles' | 'depth'>('candles');
  const last = m.klines[m.klines.length - 1];
  return (
    <div className="chart-panel">
      <div className="chart-toolbar">
        {INTERVALS.map((iv) => (
          <button key={iv} type="button" data-testid={`interval-${iv}`} className={`tab ${m.interval === iv ? 'active' : ''}`}
            onClick={() => { setView('candles'); setChartInterval(iv); }}>{iv}</button>
        ))}
        <span className="chart-toolbar-fill" />
        <button type="button" data-testid="chart-view-candles" className={`tab ${view === 'candles' ? 'active' : ''}`}
          onClick={() => setView('candles')}>Candles</button>
        <button type="button" data-testid="chart-view-depth" className={`tab ${view === 'depth' ? 'active' : ''}`}
          onClick={() => setView('depth')}>Depth</button>
      </div>
      <div className="chart-body" data-testid="chart" data-candles={m.klines.length} data-last-time={last?.openTime ?? ''}
        data-last-close={last?.close ?? ''} data-view={view}>
        <Candles m={m} tickSize={symbolSteps(symbolInfo).tickSize} hidden={view !== 'candles'} />
        {view === 'depth' && <DepthChart m={m} priceDecimals={symbolSteps(symbolInfo).priceDecimals} />}
      </div>
    </div>
  );
}

function Candles(props: { m: MarketState; tickSize: string; hidden: boolean }) {
  const { m, tickSize, hidden } = props;
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<{ api: IChartApi; candles: ISeriesApi<'Candlestick'>; volume: ISeriesApi<'Histogram'> } | null>(null);
  const drawn = useRef<{ epoch: number; lastTime: number }>({ epoch: -1, lastTime: 0 });

  useEffect(() => {
    const api = createChart(box.current!, {
      autoSize: true,
      layout: { background: { color: 'transparent' }, textColor: '#848e9c', attributionLogo: true },
      grid: { vertLines: { color: '#1e2329' }, horzLines: { color: '#1e2329' } },
      timeScale: { timeVisible: true, secondsVisible: false, borderColor: '#2b3139', rightOffset: 6, barSpacing: 8 },
      rightPriceScale: { borderColor: '#2b3139', scaleMargins: { top: 0.08, bottom: 0.25 } },
      crosshair: { mode: 0 },
    });
    const candles = api.addSeries(CandlestickSeries, {
      upColor: BUY, downColor: SELL, borderUpColor: BUY, borderDownColor: SELL, wickUpColor: BUY, wickDownColor: SELL,
    });
    const vol = api.addSeries(HistogramSeries, { priceScaleId: 'volume', priceFormat: { type: 'volume' }, lastValueVisible: false, priceLineVisible: false });
    api.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    chart.current = { api, candles, volume: vol };
    drawn.current = { epoch: -1, lastTime: 0 };
    return () => {
      chart.current = null;
      api.remove();
    };
  }, []);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    const decimals = Math.max(0, D(tickSize).decimalPlaces());
    c.candles.applyOptions({ priceFormat: { type: 'price', precision: decimals, minMove: Number(tickSize) } });
  }, [tickSize]);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    const d = drawn.current;
    const ks = m.klines;
    if (d.epoch !== m.klinesEpoch) {
      c.candles.setData(ks.map(candle));
      c.volume.setData(ks.map(volume));
      if (ks.length) c.api.timeScale().scrollToRealTime();
      drawn.current = { epoch: m.klinesEpoch, lastTime: ks[ks.length - 1]?.openTime ?? 0 };
      return;
    }
    // Live: the bars from the last one drawn on (the current one changes, new ones append).
    let from = ks.length;
    while (from > 0 && ks[from - 1]!.openTime >= d.lastTime) from--;
    for (const k of ks.slice(from)) {
      c.candles.update(candle(k));
      c.volume.update(volume(k));
    }
    d.lastTime = ks[ks.length - 1]?.openTime ?? d.lastTime;
  }, [m.klines, m.klinesEpoch]);

  return <div ref={box} className="chart-candles" style={hidden ? { visibility: 'hidden' } : undefined} />;
}

/** Cumulative quantity from the best price outwards, as [price, cumulative] pairs. */
function cumulate(levels: readonly { price: Dec; qty: Dec }[]): [number, number][] {
  const out: [number, number][] = [];
  let cum = D(0);
  for (const l of levels.slice(0, DEPTH_LEVELS)) {
    cum = cum.add(l.qty);
    out.push([l.price.toNumber(), cum.toNumber()]);
  }
  return out;
}

function DepthChart(props: { m: MarketState; priceDecimals: number }) {
  const { m, priceDecimals } = props;
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState({ w: 0, h: 0 });

  useEffect(() => {
    const el = box.current!;
    const ro = new ResizeObserver(() => setSize({ w: el.clientWidth, h: el.clientHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const cv = canvas.current;
    if (!cv || size.w === 0 || size.h === 0) return;
    const dpr = window.devicePixelRatio || 1;
    cv.width = Math.round(size.w * dpr);
    cv.height = Math.round(size.h * dpr);
    const g = cv.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, size.w, size.h);
    const bids = cumulate(m.book.bids);
    const asks = cumulate(m.book.asks);
    g.fillStyle = '#848e9c';
    g.font = '12px system-ui, sans-serif';
    if (!bids.length && !asks.length) {
      g.fillText(m.book.status === 'resyncing' ? 'Resyncing the order book…' : 'The order book is empty', 16, 24);
      return;
    }
    const pad = { l: 8, r: 64, t: 12, b: 22 };
    const w = size.w - pad.l - pad.r;
    const h = size.h - pad.t - pad.b;
    // Symmetric window around the mid price, wide enough for the shallower side's deepest level.
    const bestBid = bids[0]?.[0];
    const bestAsk = asks[0]?.[0];
    const mid = bestBid !== undefined && bestAsk !== undefined ? (bestBid + bestAsk) / 2 : (bestBid ?? bestAsk)!;
    const reach = Math.max(
      bids.length ? mid - bids[bids.length - 1]![0] : 0,
      asks.length ? asks[asks.length - 1]![0] - mid : 0,
    ) || mid * 0.01 || 1;
    const lo = mid - reach;
    const hi = mid + reach;
    const maxCum = Math.max(bids[bids.length - 1]?.[1] ?? 0, asks[asks.length - 1]?.[1] ?? 0) * 1.1 || 1;
    const x = (p: number) => pad.l + ((p - lo) / (hi - lo)) * w;
    const y = (q: number) => pad.t + h - (q / maxCum) * h;
    const area = (pts: [number, number][], stroke: string, fill: string, edge: number) => {
      if (!pts.length) return;
      g.beginPath();
      g.moveTo(x(pts[0]![0]), y(0));
      let prevY = y(0);
      for (const [p, c] of pts) {
        g.lineTo(x(p), prevY);
        g.lineTo(x(p), y(c));
        prevY = y(c);
      }
      g.lineTo(x(edge), prevY);
      g.strokeStyle = stroke;
      g.lineWidth = 1.5;
      g.stroke();
      g.lineTo(x(edge), y(0));
      g.closePath();
      g.fillStyle = fill;
      g.fill();
    };
    area(bids, BUY, 'rgba(14, 203, 129, 0.2)', lo);
    area(asks, SELL, 'rgba(246, 70, 93, 0.2)', hi);
    // Axes: three prices below, the top quantity on the right.
    g.fillStyle = '#848e9c';
    g.textAlign = 'center';
    for (const p of [lo, mid, hi]) g.fillText(p.toFixed(priceDecimals), Math.min(Math.max(x(p), 30), pad.l + w - 30), size.h - 6);
    g.textAlign = 'left';
    g.fillText(maxCum.toPrecision(4), pad.l + w + 4, pad.t + 10);
    g.fillText('0', pad.l + w + 4, pad.t + h);
  }, [m.book, m.bookVersion, size, priceDecimals]);

  return (
    <div ref={box} className="depth-chart" data-testid="depth-chart">
      <canvas ref={canvas} style={{ width: `${size.w}px`, height: `${size.h}px` }} />
    </div>
  );
}
