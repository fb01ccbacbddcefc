// PLACEHOLDER until its owner writes it.
export function MarketList() {
  return <div className="panel-title">MarketList</div>;
}
