// PLACEHOLDER until its owner writes it.
export function RecentTrades() {
  return <div className="panel-title">RecentTrades</div>;
}
