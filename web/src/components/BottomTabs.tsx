// The user's account below the trading screen: open orders (all symbols; cancel one, cancel
// all), the current symbol's order history and trade history, and balances. Data from
// useUserData() (REST snapshot kept live by the user stream); amounts are the server's exact
// decimal strings, shown as sent.
import { useState } from 'react';
import { useApp } from '../state';
import { useUserData } from '../user';
import { ApiError, del } from '../lib/api';
import { D } from '../lib/decimal';
import type { Order } from '../lib/types';
import './BottomTabs.css';

type Tab = 'open' | 'history' | 'trades' | 'balances';

const pad = (n: number) => String(n).padStart(2, '0');
function time(ms: number): string {
  if (!ms || ms < 0) return '—';
  const d = new Date(ms);
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
const typeLabel = (t: string) => t.replace(/_/g, ' ').toLowerCase().replace(/^./, (c) => c.toUpperCase());
/** The average fill price (quote / executed), exact, or '—' with no fill. */
function avgPrice(o: Order, decimals: number): string {
  const z = D(o.executedQty);
  if (z.isZero()) return '—';
  return D(o.cummulativeQuoteQty).div(z).toFixed(decimals, 1 /* down */);
}
const isZero = (s: string) => D(s).isZero();
/** `v` with `decimals` places, or more if it has more significant ones: exact, never cut. */
function exactAt(v: string, decimals: number): string {
  const d = D(v);
  return d.toFixed(Math.max(decimals, d.decimalPlaces()));
}
/** Decimals as the server wrote them ("1.50000000" -> 8), so a sum keeps the same scale. */
const decimalsOf = (s: string) => (s.includes('.') ? s.length - s.indexOf('.') - 1 : 0);

export function BottomTabs() {
  const { me, symbol, symbolInfo, exchangeInfo, userLink } = useApp();
  const user = useUserData();
  const [tab, setTab] = useState<Tab>('open');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<Set<number | 'all'>>(new Set());
  // Decimals of a symbol's tick and step (prices and quantities shown at them, never cut).
  const decimals = (sym: string, filter: 'PRICE_FILTER' | 'LOT_SIZE') => {
    const info = exchangeInfo?.symbols.find((s) => s.symbol === sym);
    const f = info?.filters.find((x) => x.filterType === filter) as { tickSize?: string; stepSize?: string } | undefined;
    const step = filter === 'PRICE_FILTER' ? f?.tickSize : f?.stepSize;
    if (step && !isZero(step)) return Math.max(0, D(step).decimalPlaces());
    return (filter === 'PRICE_FILTER' ? info?.quotePrecision : info?.baseAssetPrecision) ?? 8;
  };
  const px = (sym: string, v: string) => exactAt(v, decimals(sym, 'PRICE_FILTER'));
  const qty = (sym: string, v: string) => exactAt(v, decimals(sym, 'LOT_SIZE'));

  const orders = user.orders.filter((o) => o.symbol === symbol);
  const trades = user.trades.filter((t) => t.symbol === symbol);
  const tabs: { id: Tab; testid: string; label: string }[] = [
    { id: 'open', testid: 'tab-open-orders', label: `Open orders (${user.openOrders.length})` },
    { id: 'history', testid: 'tab-order-history', label: 'Order history' },
    { id: 'trades', testid: 'tab-trade-history', label: 'Trade history' },
    { id: 'balances', testid: 'tab-balances', label: 'Balances' },
  ];

  const withBusy = async (key: number | 'all', work: () => Promise<void>) => {
    setError(null);
    setBusy((b) => new Set(b).add(key));
    try {
      await work();
      if (userLink !== 'live') user.refresh(); // without a live stream, reload by REST
    } catch (e) {
      setError(e instanceof ApiError ? e.display : String(e));
      user.refresh();
    } finally {
      setBusy((b) => {
        const n = new Set(b);
        n.delete(key);
        return n;
      });
    }
  };
  const cancel = (o: Order) => withBusy(o.orderId, async () => {
    await del('/api/v3/order', { symbol: o.symbol, orderId: o.orderId });
  });
  const cancelAll = () => withBusy('all', async () => {
    const symbols = [...new Set(user.openOrders.map((o) => o.symbol))];
    const results = await Promise.allSettled(symbols.map((s) => del('/api/v3/openOrders', { symbol: s })));
    // -2011 "Unknown order sent." means nothing was left to cancel there: not a failure.
    const failed = results.find((r) => r.status === 'rejected' && !(r.reason instanceof ApiError && r.reason.code === -2011));
    if (failed && failed.status === 'rejected') throw failed.reason;
  });

  let body;
  if (!me) {
    body = (
      <div className="bt-empty">
        <a href="#/login">Log in</a> or <a href="#/signup">sign up</a> to see your orders and balances.
      </div>
    );
  } else if (!user.ready && user.openOrders.length === 0 && user.balances.length === 0) {
    body = <div className="bt-empty muted">{user.error ?? 'Loading…'}</div>;
  } else if (tab === 'open') {
    body = user.openOrders.length === 0 ? (
      <div className="bt-empty muted">No open orders</div>
    ) : (
      <table className="grid">
        <thead>
          <tr><th>Time</th><th>Pair</th><th>Type</th><th>Side</th><th className="r">Price</th><th className="r">Amount</th>
            <th className="r">Filled</th><th className="r">Trigger</th>
            <th className="r"><button className="btn btn-small" data-testid="cancel-all" disabled={busy.has('all')} onClick={() => void cancelAll()}>Cancel all</button></th></tr>
        </thead>
        <tbody>
          {user.openOrders.map((o) => (
            <tr key={o.orderId} data-testid="open-order-row" data-order-id={o.orderId} data-symbol={o.symbol}>
              <td>{time(o.time)}</td>
              <td>{o.symbol}</td>
              <td>{typeLabel(o.type)}</td>
              <td className={o.side === 'BUY' ? 'buy' : 'sell'}>{o.side}</td>
              <td className="r num">{o.type === 'MARKET' ? 'Market' : px(o.symbol, o.price)}</td>
              <td className="r num">{qty(o.symbol, o.origQty)}</td>
              <td className="r num">{qty(o.symbol, o.executedQty)}</td>
              <td className="r num">{isZero(o.stopPrice || '0') ? '—' : px(o.symbol, o.stopPrice)}</td>
              <td className="r"><button className="btn btn-small" data-testid="cancel-order" disabled={busy.has(o.orderId)} onClick={() => void cancel(o)}>Cancel</button></td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  } else if (tab === 'history') {
    body = orders.length === 0 ? (
      <div className="bt-empty muted">No orders on {symbol} yet</div>
    ) : (
      <table className="grid">
        <thead>
          <tr><th>Time</th><th>Type</th><th>Side</th><th className="r">Price</th><th className="r">Avg. price</th><th className="r">Amount</th>
            <th className="r">Filled</th><th className="r">Total</th><th>Status</th></tr>
        </thead>
        <tbody>
          {orders.map((o) => (
            <tr key={o.orderId} data-testid="history-order-row" data-order-id={o.orderId} data-status={o.status}>
              <td>{time(o.time)}</td>
              <td>{typeLabel(o.type)}</td>
              <td className={o.side === 'BUY' ? 'buy' : 'sell'}>{o.side}</td>
              <td className="r num">{o.type === 'MARKET' ? 'Market' : px(o.symbol, o.price)}</td>
              <td className="r num">{avgPrice(o, decimals(o.symbol, 'PRICE_FILTER'))}</td>
              <td className="r num">{qty(o.symbol, o.origQty)}</td>
              <td className="r num">{qty(o.symbol, o.executedQty)}</td>
              <td className="r num">{o.cummulativeQuoteQty}</td>
              <td>{o.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  } else if (tab === 'trades') {
    body = trades.length === 0 ? (
      <div className="bt-empty muted">No trades on {symbol} yet</div>
    ) : (
      <table className="grid">
        <thead>
          <tr><th>Time</th><th>Side</th><th className="r">Price</th><th className="r">Amount</th><th className="r">Total</th>
            <th className="r">Fee</th><th>Role</th></tr>
        </thead>
        <tbody>
          {trades.map((t) => (
            <tr key={t.id} data-testid="trade-history-row" data-trade-id={t.id} data-order-id={t.orderId}>
              <td>{time(t.time)}</td>
              <td className={t.isBuyer ? 'buy' : 'sell'}>{t.isBuyer ? 'BUY' : 'SELL'}</td>
              <td className="r num">{px(t.symbol, t.price)}</td>
              <td className="r num">{qty(t.symbol, t.qty)}</td>
              <td className="r num">{t.quoteQty}</td>
              <td className="r num">{t.commission} {t.commissionAsset}</td>
              <td>{t.isMaker ? 'Maker' : 'Taker'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  } else {
    body = user.balances.length === 0 ? (
      <div className="bt-empty muted">No balances</div>
    ) : (
      <table className="grid">
        <thead><tr><th>Asset</th><th className="r">Available</th><th className="r">In orders</th><th className="r">Total</th></tr></thead>
        <tbody>
          {user.balances.map((b) => (
            <tr key={b.asset} data-testid="balance-row" data-asset={b.asset}
              className={b.asset === symbolInfo?.baseAsset || b.asset === symbolInfo?.quoteAsset ? 'bt-current' : undefined}>
              <td>{b.asset}</td>
              <td className="r num" data-testid="balance-free">{b.free}</td>
              <td className="r num" data-testid="balance-locked">{b.locked}</td>
              <td className="r num">{D(b.free).add(D(b.locked)).toFixed(Math.max(decimalsOf(b.free), decimalsOf(b.locked)))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  }

  return (
    <div className="bottom-tabs">
      <div className="tabs">
        {tabs.map((t) => (
          <button key={t.id} className={`tab ${tab === t.id ? 'active' : ''}`} data-testid={t.testid} onClick={() => setTab(t.id)}>
            {t.label}
          </button>
        ))}
      </div>
      {error && <div className="error bt-error" data-testid="bottom-error" role="alert">{error}</div>}
      <div className="bt-body">{body}</div>
    </div>
  );
}
