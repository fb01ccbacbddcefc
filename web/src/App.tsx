// The trading screen's shell: loads the exchange's rules, the web config and the session, routes
// between the trading screen and the account pages (hash routes, so the gateway serves one
// index.html), and lays out the panels. Each panel is its own component and owns its data.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { AppContext, type AppState, type PickedPrice, type Route } from './state';
import { ApiError, get } from './lib/api';
import { meOf, type ExchangeInfo, type LinkState, type Me, type Side, type WebConfig, type WebSessionState } from './lib/types';
import { ConnectionIndicator } from './components/ConnectionIndicator';
import { TickerHeader } from './components/TickerHeader';
import { MarketList } from './components/MarketList';
import { ChartPanel } from './components/ChartPanel';
import { OrderBook } from './components/OrderBook';
import { RecentTrades } from './components/RecentTrades';
import { OrderForm } from './components/OrderForm';
import { BottomTabs } from './components/BottomTabs';
import { AuthPage } from './components/AuthPage';
import { ApiKeysPage } from './components/ApiKeysPage';
import { UserMenu } from './components/UserMenu';
import { UserDataProvider } from './user';

const SYMBOL_KEY = 'spotex.symbol';

function routeFromHash(): Route {
  const h = location.hash.replace(/^#/, '') || '/';
  return h === '/login' || h === '/signup' || h === '/api-keys' ? h : '/';
}

export function App() {
  const [route, setRoute] = useState<Route>(routeFromHash);
  const [symbol, setSymbolState] = useState<string>(() => localStorage.getItem(SYMBOL_KEY) ?? 'BTCUSDT');
  const [exchangeInfo, setExchangeInfo] = useState<ExchangeInfo | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [webConfig, setWebConfig] = useState<WebConfig>({ demoSymbols: [] });
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [pickedPrice, setPickedPrice] = useState<PickedPrice | null>(null);
  const [marketLink, setMarketLink] = useState<LinkState>('connecting');
  const [userLink, setUserLink] = useState<LinkState>('connecting');

  useEffect(() => {
    const onHash = () => setRoute(routeFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  // The exchange's rules; retried until the gateway answers (it may still be starting).
  useEffect(() => {
    let stop = false;
    let delay = 500;
    const load = async () => {
      while (!stop) {
        try {
          const info = await get<ExchangeInfo>('/api/v3/exchangeInfo');
          if (!stop) {
            setExchangeInfo(info);
            setLoadError(null);
          }
          return;
        } catch (e) {
          if (!stop) setLoadError(e instanceof ApiError ? e.display : String(e));
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 10_000);
        }
      }
    };
    void load();
    get<WebConfig>('/api/v1/web/config').then(setWebConfig, () => {});
    return () => {
      stop = true;
    };
  }, []);

  // Is there a session? The cookie is HttpOnly, so ask the server (200 either way).
  useEffect(() => {
    get<WebSessionState>('/api/v1/web/session').then((s) => setMe(meOf(s)), () => setMe(null));
  }, []);

  const setSymbol = useCallback((s: string) => {
    setSymbolState(s);
    setPickedPrice(null);
    localStorage.setItem(SYMBOL_KEY, s);
  }, []);
  const pickPrice = useCallback((price: string, side: Side) => {
    setPickedPrice((p) => ({ price, side, nonce: (p?.nonce ?? 0) + 1 }));
  }, []);
  const navigate = useCallback((r: Route) => {
    location.hash = r;
  }, []);

  const symbolInfo = useMemo(() => {
    if (!exchangeInfo) return null;
    return exchangeInfo.symbols.find((s) => s.symbol === symbol) ?? exchangeInfo.symbols[0] ?? null;
  }, [exchangeInfo, symbol]);

  // A remembered symbol the exchange no longer lists: fall back to its first market.
  useEffect(() => {
    if (symbolInfo && symbolInfo.symbol !== symbol) setSymbol(symbolInfo.symbol);
  }, [symbolInfo, symbol, setSymbol]);

  const state: AppState = {
    symbol, setSymbol, exchangeInfo, symbolInfo, webConfig, me, setMe, pickedPrice, pickPrice,
    marketLink, setMarketLink, userLink, setUserLink, navigate,
  };

  let page;
  if (route === '/login' || route === '/signup') page = <AuthPage mode={route === '/login' ? 'login' : 'signup'} />;
  else if (route === '/api-keys') page = <ApiKeysPage />;
  else if (!symbolInfo) page = <div className="loading" data-testid="loading">{loadError ?? 'Loading markets…'}</div>;
  else
    page = (
      <UserDataProvider>
        <main className="trade-grid">
          <section className="area-markets panel"><MarketList /></section>
          <section className="area-chart panel"><ChartPanel /></section>
          <section className="area-book panel"><OrderBook /></section>
          <section className="area-trades panel"><RecentTrades /></section>
          <section className="area-form panel"><OrderForm /></section>
          <section className="area-bottom panel"><BottomTabs /></section>
        </main>
      </UserDataProvider>
    );

  return (
    <AppContext.Provider value={state}>
      <div className="app">
        <header className="topbar">
          <a className="brand" href="#/" data-testid="nav-trade">Spotex</a>
          {route === '/' && symbolInfo ? <TickerHeader /> : <div className="topbar-fill" />}
          <ConnectionIndicator />
          <UserMenu />
        </header>
        {page}
        <footer className="footer">
          Charts by <a href="https://www.tradingview.com/" rel="noopener noreferrer" target="_blank">TradingView</a> Lightweight Charts™
        </footer>
      </div>
    </AppContext.Provider>
  );
}
