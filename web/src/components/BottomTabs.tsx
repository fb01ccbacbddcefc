// PLACEHOLDER until its owner writes it.
export function BottomTabs() {
  return <div className="panel-title">BottomTabs</div>;
}
