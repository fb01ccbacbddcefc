// The market's latest trades (up to 50, newest first): REST /api/v3/trades, then `@trade` live.
// A buyer-maker trade was a sell hitting the bid (red); otherwise a buy lifting the ask (green).
import { useApp } from '../state';
import { symbolSteps, useMarketData } from '../lib/marketStream';
import { fmtGrouped } from '../lib/decimal';
import './RecentTrades.css';

const time = (ms: number) => new Date(ms).toLocaleTimeString([], { hour12: false });

export function RecentTrades() {
  const { symbol, symbolInfo, setMarketLink } = useApp();
  const m = useMarketData(symbol, setMarketLink);
  const { priceDecimals, qtyDecimals } = symbolSteps(symbolInfo);
  return (
    <div className="trades" data-testid="trades" data-last-id={m.trades[0]?.id ?? ''}>
      <div className="panel-title">Recent trades</div>
      <div className="trades-cols muted">
        <span>Price ({symbolInfo?.quoteAsset})</span><span className="r">Amount ({symbolInfo?.baseAsset})</span><span className="r">Time</span>
      </div>
      <div className="trades-rows">
        {m.trades.map((t) => (
          <div key={t.id} className="trade-row" data-testid="trade-row" data-id={t.id}>
            <span className={`num ${t.isBuyerMaker ? 'sell' : 'buy'}`}>{fmtGrouped(t.price, priceDecimals)}</span>
            <span className="num r">{fmtGrouped(t.qty, qtyDecimals)}</span>
            <span className="num r muted">{time(t.time)}</span>
          </div>
        ))}
        {m.trades.length === 0 && <div className="muted trades-empty">No trades yet</div>}
      </div>
    </div>
  );
}
