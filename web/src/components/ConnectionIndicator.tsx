// The live-data indicator: the worse of the market stream's and the user stream's states.
// "stale" means a connection is up but nothing arrived for too long, "reconnecting" that one is
// down and being retried with back-off.
import { useApp } from '../state';
import type { LinkState } from '../lib/types';

const rank: Record<LinkState, number> = { live: 0, connecting: 1, stale: 2, reconnecting: 3 };
const label: Record<LinkState, string> = {
  live: 'Live', connecting: 'Connecting…', stale: 'Stale data', reconnecting: 'Reconnecting…',
};

export function ConnectionIndicator() {
  const { marketLink, userLink, me } = useApp();
  // Signed out, the user stream does not exist and does not count.
  const state = me && rank[userLink] > rank[marketLink] ? userLink : marketLink;
  return (
    <div className={`link link-${state}`} data-testid="link-status" data-state={state} role="status">
      <span className="link-dot" />
      {label[state]}
    </div>
  );
}
