// PLACEHOLDER until its owner writes it.
export function OrderForm() {
  return <div className="panel-title">OrderForm</div>;
}
