// Order entry: buy/sell, Limit / Market / Stop-limit / OCO, the symbol's filters applied as the
// user types (violations shown inline, values rounded to tick and step on blur), 25-100 % of
// the available balance, a click in the order book filling the price. Validation and the exact
// request parameters are lib/orderForm.ts; the server's refusal is shown as "code: msg".
import { useEffect, useMemo, useRef, useState } from 'react';
import { useApp } from '../state';
import { useUserData } from '../user';
import { ApiError, get, post } from '../lib/api';
import { parseDec, trimZeros } from '../lib/decimal';
import { roundPrice, roundQty, roundQuote, symbolFilters } from '../lib/filters';
import {
  buildOrder, emptyInput, fieldErrors, percentFill, qtyFromTotal, totalOf, type FormField, type FormInput, type FormType,
} from '../lib/orderForm';
import type { Side } from '../lib/types';
import './OrderForm.css';

const TYPES: { type: FormType; label: string }[] = [
  { type: 'LIMIT', label: 'Limit' },
  { type: 'MARKET', label: 'Market' },
  { type: 'STOP_LOSS_LIMIT', label: 'Stop-limit' },
  { type: 'OCO', label: 'OCO' },
];

interface PlacedOrder { orderId?: number; status?: string; orderListId?: number; listOrderStatus?: string }

export function OrderForm() {
  const { symbol, symbolInfo, me, pickedPrice, userLink } = useApp();
  const user = useUserData();
  const filters = useMemo(() => (symbolInfo ? symbolFilters(symbolInfo) : null), [symbolInfo]);
  const [input, setInput] = useState<FormInput>(() => emptyInput());
  const [submitted, setSubmitted] = useState(false);
  const [serverError, setServerError] = useState<string | null>(null);
  const [success, setSuccess] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [lastPrice, setLastPrice] = useState<string | undefined>();
  const [avgPrice, setAvgPrice] = useState<string | undefined>();

  // Last and average price: the stop type, OCO price order, market notional and % of a BUY.
  const refreshPrices = useRef<() => Promise<string | undefined>>(async () => undefined);
  useEffect(() => {
    let stop = false;
    setLastPrice(undefined);
    setAvgPrice(undefined);
    const load = async () => {
      try {
        const [t, a] = await Promise.all([
          get<{ price: string }>('/api/v3/ticker/price', { symbol }),
          get<{ price: string }>('/api/v3/avgPrice', { symbol }).catch(() => undefined),
        ]);
        const last = parseDec(t.price)?.isZero() ? undefined : t.price;
        if (!stop) {
          setLastPrice(last);
          setAvgPrice(a && !parseDec(a.price)?.isZero() ? a.price : undefined);
        }
        return last;
      } catch {
        return undefined;
      }
    };
    refreshPrices.current = load;
    void load();
    const timer = setInterval(() => void load(), 15_000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [symbol]);

  // A new symbol starts a clean form.
  useEffect(() => {
    setInput((i) => emptyInput(i.side, i.type));
    setSubmitted(false);
    setServerError(null);
    setSuccess(null);
  }, [symbol]);

  // A click on a book level fills the price (every click, even the same price: nonce).
  useEffect(() => {
    if (!pickedPrice || !filters) return;
    setInput((i) => {
      if (i.type === 'OCO') return { ...i, limitPrice: pickedPrice.price };
      const type = i.type === 'MARKET' ? 'LIMIT' : i.type;
      return { ...i, type, price: pickedPrice.price, total: totalOf(filters, pickedPrice.price, i.qty) };
    });
  }, [pickedPrice?.nonce]); // only a new click, not a re-render

  if (!symbolInfo || !filters) return null;
  const { baseAsset, quoteAsset } = symbolInfo;
  const bal = (asset: string) => user.balances.find((b) => b.asset === asset)?.free ?? '0';
  const freeBase = bal(baseAsset);
  const freeQuote = bal(quoteAsset);
  const market = input.type === 'MARKET';
  const ctx = { symbol, filters, lastPrice, refPrice: avgPrice ?? lastPrice };
  const result = buildOrder(input, ctx);
  const errors = result.ok ? [] : result.errors;
  // Inline: a field's problem once it has text (or after a submit attempt).
  const shown = (field: FormField): string | undefined => {
    // The notional concerns price and amount: shown once an amount is typed.
    const text = field === 'form' ? 'x' : field === 'total' ? input.qty + input.total
      : (input as unknown as Record<string, string>)[field] ?? '';
    if (!submitted && text.trim() === '') return undefined;
    return fieldErrors(errors, field);
  };

  const set = (patch: Partial<FormInput>) => {
    setInput((i) => ({ ...i, ...patch }));
    setServerError(null);
    setSuccess(null);
  };
  const setPrice = (price: string) => set({ price, total: market ? input.total : totalOf(filters, price, input.qty) || input.total });
  const setQty = (qty: string) => set(market ? { qty, total: '' } : { qty, total: totalOf(filters, pricedAt(), qty) });
  const setTotal = (total: string) => set(market ? { total, qty: '' } : { total, qty: qtyFromTotal(filters, total, pricedAt()) });
  // The price a quantity is worth at: the limit price (OCO: the take-profit price).
  const pricedAt = () => (input.type === 'OCO' ? input.limitPrice : input.price);

  const blurPrice = (field: 'price' | 'stopPrice' | 'limitPrice' | 'stopLimitPrice') => {
    const v = parseDec(input[field]);
    if (!v) return;
    const rounded = roundPrice(filters, v);
    if (rounded === input[field]) return;
    const patch: Partial<FormInput> = { [field]: rounded };
    if (!market && (field === 'price' || (input.type === 'OCO' && field === 'limitPrice'))) patch.total = totalOf(filters, rounded, input.qty);
    setInput((i) => ({ ...i, ...patch }));
  };
  const blurQty = () => {
    const v = parseDec(input.qty);
    if (!v) return;
    const rounded = roundQty(filters, v, market);
    if (rounded !== input.qty) setInput((i) => ({ ...i, qty: rounded, total: market ? '' : totalOf(filters, pricedAt(), rounded) }));
  };
  const blurTotal = () => {
    const v = parseDec(input.total);
    if (v && market) setInput((i) => ({ ...i, total: roundQuote(filters, v) }));
  };

  const percent = (pct: number) => {
    const fill = percentFill(filters, input.side, input.type, pct, freeBase, freeQuote,
      input.type === 'STOP_LOSS_LIMIT' || input.type === 'LIMIT' ? input.price : input.type === 'OCO' ? input.limitPrice : '');
    if (fill.total !== undefined) set({ total: fill.total, qty: '' });
    else if (fill.qty !== undefined) set({ qty: fill.qty, total: market ? '' : totalOf(filters, pricedAt(), fill.qty) });
    else setServerError(input.side === 'BUY' ? 'Enter a price first' : 'No balance to sell');
  };

  const submit = async () => {
    setSubmitted(true);
    setServerError(null);
    setSuccess(null);
    // The stop type and the OCO's price order depend on the last price: use a fresh one.
    let c = ctx;
    if (input.type === 'STOP_LOSS_LIMIT' || input.type === 'OCO') {
      const fresh = await refreshPrices.current();
      if (fresh) c = { ...ctx, lastPrice: fresh };
    }
    const r = buildOrder(input, c);
    if (!r.ok) return;
    setBusy(true);
    try {
      const res = await post<PlacedOrder>(r.request.path, r.request.params);
      setSuccess(res.orderListId !== undefined && res.orderId === undefined
        ? `Order list ${res.orderListId} ${res.listOrderStatus ?? ''}`.trim()
        : `Order ${res.orderId} ${res.status ?? 'NEW'}`);
      setSubmitted(false);
      setInput((i) => ({ ...i, qty: '', total: '' }));
      if (userLink !== 'live') user.refresh(); // without a live stream, reload by REST
    } catch (e) {
      setServerError(e instanceof ApiError ? e.display : String(e));
    } finally {
      setBusy(false);
    }
  };

  const side = (s: Side) => () => {
    set({ side: s });
  };
  const field = (testid: string, label: string, value: string, onChange: (v: string) => void, onBlur: () => void,
    err: string | undefined, unit: string) => (
    <label className={`of-field${err ? ' of-invalid' : ''}`}>
      <span className="of-label">{label}</span>
      <input className="input num" inputMode="decimal" autoComplete="off" data-testid={testid} value={value}
        onChange={(e) => onChange(e.target.value.replace(',', '.'))} onBlur={onBlur} aria-invalid={!!err} />
      <span className="of-unit">{unit}</span>
      {err && <span className="of-msg">{err}</span>}
    </label>
  );

  const priceField = (f: 'price' | 'stopPrice' | 'limitPrice' | 'stopLimitPrice', testid: string, label: string) =>
    field(testid, label, input[f], f === 'price' ? setPrice : (v) => set(f === 'limitPrice' ? { limitPrice: v, total: totalOf(filters, v, input.qty) } : { [f]: v }),
      () => blurPrice(f), shown(f), quoteAsset);

  const buy = input.side === 'BUY';
  return (
    <div className="order-form">
      <div className="panel-title">Place order</div>
      <div className="of-sides">
        <button className={`of-side ${buy ? 'active buy-active' : ''}`} data-testid="order-side-buy" onClick={side('BUY')}>Buy</button>
        <button className={`of-side ${!buy ? 'active sell-active' : ''}`} data-testid="order-side-sell" onClick={side('SELL')}>Sell</button>
      </div>
      <div className="tabs of-types">
        {TYPES.map((t) => (
          <button key={t.type} className={`tab ${input.type === t.type ? 'active' : ''}`} data-testid={`order-type-${t.type}`}
            onClick={() => set({ type: t.type, total: t.type === 'MARKET' || input.type === 'MARKET' ? '' : input.total })}>
            {t.label}
          </button>
        ))}
      </div>
      <div className="of-body">
        <div className="of-available">
          <span className="muted">Available</span>
          <span className="num" data-testid="order-available">
            {!me ? '—' : user.ready ? `${buy ? freeQuote : freeBase} ${buy ? quoteAsset : baseAsset}` : '…'}
          </span>
        </div>
        {input.type === 'STOP_LOSS_LIMIT' && priceField('stopPrice', 'order-stop-price', 'Stop')}
        {(input.type === 'LIMIT' || input.type === 'STOP_LOSS_LIMIT') && priceField('price', 'order-price', input.type === 'LIMIT' ? 'Price' : 'Limit')}
        {input.type === 'MARKET' && (
          <div className="of-field of-market-price"><span className="of-label">Price</span><span className="muted">Market price{lastPrice ? ` (last ${trimZeros(lastPrice)})` : ''}</span></div>
        )}
        {input.type === 'OCO' && (
          <>
            {priceField('limitPrice', 'order-limit-price', buy ? 'Limit (below)' : 'Take profit (above)')}
            {priceField('stopPrice', 'order-stop-price', buy ? 'Stop (above)' : 'Stop (below)')}
            {priceField('stopLimitPrice', 'order-stop-limit-price', 'Stop limit')}
          </>
        )}
        {field('order-qty', 'Amount', input.qty, setQty, blurQty, shown('qty'), baseAsset)}
        <div className="of-pcts">
          {[25, 50, 75, 100].map((p) => (
            <button key={p} className="btn btn-small" data-testid={`order-pct-${p}`} disabled={!me} onClick={() => percent(p)}>{p}%</button>
          ))}
        </div>
        {input.type !== 'OCO' &&
          field('order-total', market ? (buy ? 'Spend (instead of amount)' : 'Receive (instead of amount)') : 'Total', input.total, setTotal, blurTotal, shown('total'), quoteAsset)}
        {input.type === 'OCO' && shown('total') && <div className="of-msg" role="alert">{shown('total')}</div>}
        {shown('form') && <div className="of-msg" role="alert">{shown('form')}</div>}
        {me ? (
          <button className={`btn of-submit ${buy ? 'btn-buy' : 'btn-sell'}`} data-testid="order-submit" disabled={busy}
            onClick={() => void submit()}>
            {busy ? 'Sending…' : `${buy ? 'Buy' : 'Sell'} ${baseAsset}`}
          </button>
        ) : me === null ? (
          <div className="of-signin">
            <a className="btn btn-primary" href="#/login" data-testid="order-login">Log in</a>
            <span className="muted">or</span>
            <a className="btn" href="#/signup" data-testid="order-signup">Sign up</a>
            <span className="muted">to trade</span>
          </div>
        ) : null}
        {serverError && <div className="error of-result" data-testid="order-error" role="alert">{serverError}</div>}
        {!serverError && submitted && errors.length > 0 && (
          <div className="error of-result" data-testid="order-error" role="alert">{errors[0]!.message}</div>
        )}
        {success && <div className="buy of-result" data-testid="order-success" role="status">{success}</div>}
      </div>
    </div>
  );
}
