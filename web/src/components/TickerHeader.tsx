// PLACEHOLDER until its owner writes it.
export function TickerHeader() {
  return <div className="panel-title">TickerHeader</div>;
}
