// The signed-in user's account data for the trading screen: balances, open orders (all
// symbols), and the current symbol's order history and trades. Loaded by REST, kept live by the
// session user stream (lib/userStream.ts), and reloaded by REST after every (re)connect so the
// screen is consistent again without a page reload. Reports the stream's health as userLink.
// Signed out (useApp().me falsy) nothing is loaded and the state is empty.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useApp } from './state';
import { ApiError, get, wsUrl } from './lib/api';
import type { Balance, MyTrade, Order, WebSessionState } from './lib/types';
import {
  applyEvent, emptyUserState, stateFromSnapshot, UserStream, type UserEvent, type UserState,
} from './lib/userStream';

export interface UserData extends UserState {
  /** The first REST load for this user and symbol has completed. */
  ready: boolean;
  /** Last REST failure ("code: msg"), if the latest load failed. */
  error: string | null;
  /** Reload everything by REST now (after an action whose events may not stream). */
  refresh(): void;
}

const UserContext = createContext<UserData | null>(null);

export function useUserData(): UserData {
  const u = useContext(UserContext);
  if (!u) throw new Error('useUserData outside UserDataProvider');
  return u;
}

interface Account { balances: Balance[]; updateTime: number }

export function UserDataProvider(props: { children: ReactNode }) {
  const { me, symbol, setUserLink, setMe } = useApp();
  const [state, setState] = useState<UserState>(emptyUserState);
  const [ready, setReady] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const symbolRef = useRef(symbol);
  symbolRef.current = symbol;
  // Events received while a resync is in flight, applied again on top of its snapshot.
  const buffer = useRef<UserEvent[] | null>(null);
  const generation = useRef(0);
  const streamOpen = useRef(false);
  const retryTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const lastProbe = useRef(0);
  const closesSinceOpen = useRef(0);
  const signedIn = !!me;

  const resync = useCallback(async () => {
    const gen = ++generation.current;
    if (retryTimer.current) clearTimeout(retryTimer.current);
    retryTimer.current = null;
    buffer.current = [];
    const sym = symbolRef.current;
    try {
      const [account, openOrders, orders, trades] = await Promise.all([
        get<Account>('/api/v3/account'),
        get<Order[]>('/api/v3/openOrders'),
        get<Order[]>('/api/v3/allOrders', { symbol: sym, limit: 100 }),
        get<MyTrade[]>('/api/v3/myTrades', { symbol: sym, limit: 100 }),
      ]);
      if (gen !== generation.current) return;
      let next = stateFromSnapshot({ balances: account.balances, balanceTime: account.updateTime ?? 0, openOrders, orders, trades });
      for (const ev of buffer.current ?? []) next = applyEvent(next, ev, sym);
      buffer.current = null;
      setState(next);
      setReady(true);
      setError(null);
      if (streamOpen.current) setUserLink('live'); // else the stream's own state stands
    } catch (e) {
      if (gen !== generation.current) return;
      buffer.current = null;
      if (e instanceof ApiError && e.status === 401) {
        setMe(null); // the session ended
        return;
      }
      setError(e instanceof ApiError ? e.display : String(e));
      if (streamOpen.current) setUserLink('stale'); // connected, but the state could not be reloaded
      retryTimer.current = setTimeout(() => void resync(), 5_000);
    }
  }, [setUserLink, setMe]);

  // The stream: only while signed in; every open triggers a resync.
  useEffect(() => {
    if (!signedIn) {
      setState(emptyUserState());
      setReady(false);
      return;
    }
    setUserLink('connecting');
    const stream = new UserStream(wsUrl('/api/v1/web/userStream'), {
      onOpen: () => {
        streamOpen.current = true;
        closesSinceOpen.current = 0;
        setUserLink('connecting');
        void resync();
      },
      onEvent: (ev) => {
        buffer.current?.push(ev);
        setState((s) => applyEvent(s, ev, symbolRef.current));
      },
      onClose: () => {
        streamOpen.current = false;
        setUserLink('reconnecting');
        // The gateway also closes the stream when the session ends (logout elsewhere, expiry):
        // once a reconnect failed too, ask (at most every 10 s), so the page signs out instead
        // of retrying forever. Not on the first close: a logout here closes it as well.
        const now = Date.now();
        if (++closesSinceOpen.current >= 2 && now - lastProbe.current >= 10_000) {
          lastProbe.current = now;
          get<WebSessionState>('/api/v1/web/session').then((s) => {
            if (!s.signedIn) setMe(null);
          }, () => {});
        }
      },
    });
    stream.start();
    return () => {
      stream.stop();
      streamOpen.current = false;
      generation.current++;
      if (retryTimer.current) clearTimeout(retryTimer.current);
      retryTimer.current = null;
    };
  }, [signedIn, resync, setUserLink, setMe]);

  // A REST load at sign-in and on every symbol change (history and trades are per symbol),
  // whether or not the stream is up.
  useEffect(() => {
    if (!signedIn) return;
    setReady(false);
    void resync();
  }, [signedIn, symbol, resync]);

  const refresh = useCallback(() => void resync(), [resync]);
  const value = useMemo<UserData>(() => ({ ...state, ready, error, refresh }), [state, ready, error, refresh]);
  return <UserContext.Provider value={value}>{props.children}</UserContext.Provider>;
}
