// The market list: every symbol of exchangeInfo with its last price and 24 h change from
// `!miniTicker@arr` (seeded by REST), a search box, favourites (starred first, kept in
// localStorage) and DEMO badges. A click selects the market.
import { useMemo, useState } from 'react';
import { useApp } from '../state';
import { changePercent, symbolSteps, useMarketData } from '../lib/marketStream';
import { D, fmtGrouped } from '../lib/decimal';
import './MarketList.css';

const FAV_KEY = 'spotex.favourites';
const MAX_SEARCH = 20;

function loadFavourites(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(FAV_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, 1000) : [];
  } catch {
    return [];
  }
}

export function MarketList() {
  const { symbol, setSymbol, exchangeInfo, webConfig, setMarketLink } = useApp();
  const m = useMarketData(symbol, setMarketLink);
  const [query, setQuery] = useState('');
  const [favs, setFavs] = useState<string[]>(loadFavourites);
  const [onlyFavs, setOnlyFavs] = useState(false);

  const toggleFav = (s: string) => {
    setFavs((f) => {
      const next = f.includes(s) ? f.filter((x) => x !== s) : [...f, s];
      localStorage.setItem(FAV_KEY, JSON.stringify(next));
      return next;
    });
  };

  const rows = useMemo(() => {
    const q = query.trim().toUpperCase();
    const all = (exchangeInfo?.symbols ?? []).filter((s) => {
      if (onlyFavs && !favs.includes(s.symbol)) return false;
      if (!q) return true;
      return s.symbol.includes(q) || `${s.baseAsset}/${s.quoteAsset}`.includes(q);
    });
    // Favourites first, then by name.
    return all.sort((a, b) => {
      const fa = favs.includes(a.symbol) ? 0 : 1;
      const fb = favs.includes(b.symbol) ? 0 : 1;
      return fa - fb || a.symbol.localeCompare(b.symbol);
    });
  }, [exchangeInfo, query, favs, onlyFavs]);

  return (
    <div className="markets">
      <div className="markets-head">
        <input className="input" data-testid="market-search" placeholder="Search" value={query} maxLength={MAX_SEARCH}
          onChange={(e) => setQuery(e.target.value)} aria-label="Search markets" />
        <button type="button" className={`btn btn-small ${onlyFavs ? 'active' : ''}`} title="Favourites only"
          aria-pressed={onlyFavs} onClick={() => setOnlyFavs((v) => !v)}>★</button>
      </div>
      <div className="markets-cols muted"><span>Pair</span><span className="r">Price</span><span className="r">24h</span></div>
      <div className="markets-rows">
        {rows.map((s) => {
          const mini = m.minis[s.symbol];
          const { priceDecimals } = symbolSteps(s);
          const traded = mini && !D(mini.close).isZero();
          const ch = traded ? changePercent(mini.open, mini.close) : null;
          const fav = favs.includes(s.symbol);
          return (
            <div key={s.symbol} className={`market-row ${s.symbol === symbol ? 'selected' : ''}`} data-testid="market-row"
              data-symbol={s.symbol} role="button" tabIndex={0} onClick={() => setSymbol(s.symbol)}
              onKeyDown={(e) => { if (e.key === 'Enter') setSymbol(s.symbol); }}>
              <span className="market-name">
                <button type="button" className={`market-fav ${fav ? 'on' : ''}`} data-testid="market-fav"
                  aria-pressed={fav} title={fav ? 'Remove from favourites' : 'Add to favourites'}
                  onClick={(e) => { e.stopPropagation(); toggleFav(s.symbol); }}>{fav ? '★' : '☆'}</button>
                {s.baseAsset}<span className="muted market-quote">/{s.quoteAsset}</span>
                {webConfig.demoSymbols.includes(s.symbol) && <span className="badge" data-testid="demo-badge">DEMO</span>}
              </span>
              <span className="num r" data-testid="market-last">{traded ? fmtGrouped(mini.close, priceDecimals) : '—'}</span>
              <span className={`num r ${ch === null ? 'muted' : ch.startsWith('-') ? 'sell' : 'buy'}`}>{ch !== null ? `${ch}%` : '—'}</span>
            </div>
          );
        })}
        {rows.length === 0 && <div className="muted markets-empty">No markets</div>}
      </div>
    </div>
  );
}
