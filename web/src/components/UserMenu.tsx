// PLACEHOLDER until its owner writes it.
export function UserMenu() {
  return <div className="panel-title">UserMenu</div>;
}
