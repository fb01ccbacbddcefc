// The selected market's header: pair, last price, 24 h change, high, low and volume from the
// `@ticker` stream (seeded by REST /api/v3/ticker/24hr), with a DEMO badge on markets the demo
// bots drive (GET /api/v1/web/config).
import type { ReactNode } from 'react';
import { useApp } from '../state';
import { changePercent, symbolSteps, useMarketData } from '../lib/marketStream';
import { D, fmtGrouped } from '../lib/decimal';
import './TickerHeader.css';

export function TickerHeader() {
  const { symbol, symbolInfo, webConfig, setMarketLink } = useApp();
  const m = useMarketData(symbol, setMarketLink);
  const { priceDecimals, qtyDecimals } = symbolSteps(symbolInfo);
  const t = m.ticker && m.ticker.symbol === symbol ? m.ticker : null;
  // The newest trade is fresher than the 1 s ticker.
  const last = m.trades[0]?.price ?? t?.lastPrice ?? null;
  const traded = last !== null && !D(last).isZero();
  const change = t ? changePercent(t.openPrice, last ?? t.lastPrice) : null;
  const dir = change === null ? '' : change.startsWith('-') ? 'sell' : 'buy';
  const price = (v: string | undefined | null) => (v && traded ? fmtGrouped(v, priceDecimals) : '—');
  const pair = symbolInfo ? `${symbolInfo.baseAsset}/${symbolInfo.quoteAsset}` : symbol;
  return (
    <div className="ticker">
      <div className="ticker-pair">
        <span data-testid="ticker-symbol" data-symbol={symbol}>{pair}</span>
        {webConfig.demoSymbols.includes(symbol) && (
          <span className="badge" data-testid="demo-badge" title="Market driven by the demo bots">DEMO</span>
        )}
      </div>
      <div className={`ticker-last num ${dir}`} data-testid="ticker-last">{price(last)}</div>
      <Stat label="24h change" testid="ticker-change" className={dir}>{change !== null && traded ? `${change}%` : '—'}</Stat>
      <Stat label="24h high" testid="ticker-high">{price(t?.highPrice)}</Stat>
      <Stat label="24h low" testid="ticker-low">{price(t?.lowPrice)}</Stat>
      <Stat label={`24h volume (${symbolInfo?.baseAsset ?? ''})`} testid="ticker-volume">
        {t ? fmtGrouped(t.volume, qtyDecimals) : '—'}
      </Stat>
    </div>
  );
}

function Stat(props: { label: string; testid: string; className?: string; children: ReactNode }) {
  return (
    <div className="ticker-stat">
      <span className="muted">{props.label}</span>
      <span className={`num ${props.className ?? ''}`} data-testid={props.testid}>{props.children}</span>
    </div>
  );
}
