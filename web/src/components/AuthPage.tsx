// PLACEHOLDER until its owner writes it.
export function AuthPage(props: { mode: 'login' | 'signup' }) {
  return <div className="panel-title">{props.mode}</div>;
}
