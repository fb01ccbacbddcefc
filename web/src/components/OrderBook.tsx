// The order book panel: asks above (best nearest the middle), the last price and the spread in
// the middle, bids below; each row's bar shows the cumulative quantity from the best price; a
// price grouping select (tickSize x1 .. x1000); a click on a row hands its price to the order
// form (an ask suggests BUY, a bid SELL). The book itself is lib/orderbook.ts's local book kept
// by lib/marketStream.ts; while it resyncs the panel says so instead of showing stale levels.
import { useMemo, useState } from 'react';
import { useApp } from '../state';
import { symbolSteps, useMarketData } from '../lib/marketStream';
import { groupLevels, groupingSteps, type GroupedLevel } from '../lib/orderbook';
import { D, fmt, fmtGrouped } from '../lib/decimal';
import './OrderBook.css';

/** Rows per side in the DOM: the panel's height clips them (asks from the top, bids from the
 *  bottom), so every layout shows as many as fit without a half-empty panel. */
const ROWS = 40;
/** Depth bars are scaled to the cumulative quantity this many rows deep (about what a panel
 *  shows), capped at full width below it. */
const BAR_ROWS = 10;

export function OrderBook() {
  const { symbol, symbolInfo, setMarketLink, pickPrice } = useApp();
  const m = useMarketData(symbol, setMarketLink);
  const { tickSize, priceDecimals, qtyDecimals } = symbolSteps(symbolInfo);
  const steps = useMemo(() => groupingSteps(tickSize), [tickSize]);
  const [choice, setChoice] = useState<{ symbol: string; step: string } | null>(null);
  const step = choice && choice.symbol === symbol && steps.includes(choice.step) ? choice.step : steps[0]!;

  const book = m.book;
  const { asks, bids, max } = useMemo(() => {
    const a = groupLevels(book.asks, 'ask', step, ROWS);
    const b = groupLevels(book.bids, 'bid', step, ROWS);
    const la = a[Math.min(a.length, BAR_ROWS) - 1]?.cumulative ?? D(0);
    const lb = b[Math.min(b.length, BAR_ROWS) - 1]?.cumulative ?? D(0);
    return { asks: a, bids: b, max: la.gt(lb) ? la : lb };
    // m.bookVersion changes whenever the (mutable) book did.
  }, [book, m.bookVersion, step]);

  const bestBid = book.bids[0];
  const bestAsk = book.asks[0];
  const spread = bestBid && bestAsk ? bestAsk.price.sub(bestBid.price) : null;
  const lastTrade = m.trades[0];
  const prevTrade = m.trades[1];
  const lastDir = lastTrade && prevTrade ? (D(lastTrade.price).gte(D(prevTrade.price)) ? 'buy' : 'sell') : '';

  const row = (l: GroupedLevel, side: 'ask' | 'bid') => {
    const price = fmt(l.price, priceDecimals);
    const width = max.isZero() ? 0 : Math.min(100, l.cumulative.div(max).mul(100).toNumber());
    return (
      <div key={price} className={`book-row ${side}`} data-testid={side === 'ask' ? 'book-ask' : 'book-bid'}
        data-price={price} data-qty={fmt(l.qty, qtyDecimals)} role="button" tabIndex={0}
        title={`Total ${fmtGrouped(l.cumulative, qtyDecimals)}`}
        onClick={() => pickPrice(price, side === 'ask' ? 'BUY' : 'SELL')}
        onKeyDown={(e) => { if (e.key === 'Enter') pickPrice(price, side === 'ask' ? 'BUY' : 'SELL'); }}>
        <span className="book-bar" style={{ width: `${width}%` }} />
        <span className={`num ${side === 'ask' ? 'sell' : 'buy'}`}>{fmtGrouped(price, priceDecimals)}</span>
        <span className="num r">{fmtGrouped(l.qty, qtyDecimals)}</span>
        <span className="num r muted">{fmtGrouped(l.cumulative, qtyDecimals)}</span>
      </div>
    );
  };

  return (
    <div className="orderbook" data-testid="orderbook" data-update-id={book.lastUpdateId ?? ''} data-state={book.status}>
      <div className="panel-title">
        Order book
        <select className="book-grouping input" data-testid="book-grouping" value={step} aria-label="Price grouping"
          onChange={(e) => setChoice({ symbol, step: e.target.value })}>
          {steps.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </div>
      <div className="book-cols muted">
        <span>Price ({symbolInfo?.quoteAsset})</span><span className="r">Amount ({symbolInfo?.baseAsset})</span><span className="r">Total</span>
      </div>
      <div className="book-side asks">{[...asks].reverse().map((l) => row(l, 'ask'))}</div>
      <div className="book-mid" data-testid="book-mid">
        <span className={`num book-last ${lastDir}`}>{lastTrade ? fmtGrouped(lastTrade.price, priceDecimals) : '—'}</span>
        {book.status === 'resyncing'
          ? <span className="muted">Resyncing…</span>
          : <span className="muted num">Spread {spread ? fmtGrouped(spread, priceDecimals) : '—'}</span>}
      </div>
      <div className="book-side bids">{bids.map((l) => row(l, 'bid'))}</div>
    </div>
  );
}
