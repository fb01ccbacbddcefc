// PLACEHOLDER until its owner writes it.
export function OrderBook() {
  return <div className="panel-title">OrderBook</div>;
}
