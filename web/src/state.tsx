// The screen's shared state: the selected market, the exchange's rules, the signed-in user, the
// price a click in the order book hands to the order form, and the health of the two live
// connections. Components read it with useApp(); each owns the rest of its state.
import { createContext, useContext } from 'react';
import type { ExchangeInfo, LinkState, Me, Side, SymbolInfo, WebConfig } from './lib/types';

export interface PickedPrice {
  price: string;
  /** The side that would trade against the clicked level: a click on an ask suggests BUY. */
  side: Side;
  /** Changes on every click, so clicking the same price twice still refills the form. */
  nonce: number;
}

export interface AppState {
  symbol: string;
  setSymbol(symbol: string): void;
  exchangeInfo: ExchangeInfo | null;
  /** exchangeInfo's entry for `symbol` (null until exchangeInfo loaded). */
  symbolInfo: SymbolInfo | null;
  webConfig: WebConfig;
  /** The signed-in user, null when signed out, undefined while the session is being checked. */
  me: Me | null | undefined;
  setMe(me: Me | null): void;
  pickedPrice: PickedPrice | null;
  pickPrice(price: string, side: Side): void;
  marketLink: LinkState;
  setMarketLink(s: LinkState): void;
  userLink: LinkState;
  setUserLink(s: LinkState): void;
  /** Navigate: '#/', '#/login', '#/signup', '#/api-keys'. */
  navigate(route: Route): void;
}

export type Route = '/' | '/login' | '/signup' | '/api-keys';

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const s = useContext(AppContext);
  if (!s) throw new Error('useApp outside AppContext');
  return s;
}
