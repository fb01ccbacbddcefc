// PLACEHOLDER until its owner writes it.
export function ApiKeysPage() {
  return <div className="panel-title">ApiKeysPage</div>;
}
