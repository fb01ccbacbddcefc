// PLACEHOLDER until its owner writes it.
export function ChartPanel() {
  return <div className="panel-title">ChartPanel</div>;
}
