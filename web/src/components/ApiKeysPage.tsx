// API keys of the signed-in user: create (label, READ / TRADE permissions) with the secret
// shown once, list, delete. Requests go with the session cookie (and the CSRF header, lib/api).
// The secret is held only in this component's state until the page is left.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useApp } from '../state';
import { ApiError, del, get, post } from '../lib/api';
import './ApiKeysPage.css';

interface ApiKey {
  id: number; apiKey: string; type: string; permissions: string[]; ipAllowList: string[] | null; label: string; createdAt: number;
}
interface Created extends ApiKey { secretKey?: string }

const errText = (e: unknown) => (e instanceof ApiError ? e.display : String(e));

export function ApiKeysPage() {
  const { me } = useApp();
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [label, setLabel] = useState('');
  const [read, setRead] = useState(true);
  const [trade, setTrade] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setKeys(await get<ApiKey[]>('/api/v1/apiKeys'));
    } catch (e) {
      setError(errText(e));
    }
  }, []);
  useEffect(() => {
    if (me) void load();
  }, [me, load]);

  if (me === undefined) return <div className="loading" data-testid="loading">Loading…</div>;
  if (me === null)
    return (
      <main className="keys-page">
        <div className="panel keys-card">
          <p><a href="#/login">Log in</a> or <a href="#/signup">sign up</a> to manage API keys.</p>
        </div>
      </main>
    );

  const create = async (e: FormEvent) => {
    e.preventDefault();
    const perms = [read && 'READ', trade && 'TRADE'].filter(Boolean).join(',');
    if (!perms) return setError('Choose at least one permission');
    if (new TextEncoder().encode(label).length > 128) return setError('The label may have at most 128 bytes');
    setBusy(true);
    setError(null);
    setCreated(null);
    setCopied(false);
    try {
      const k = await post<Created>('/api/v1/apiKeys', { type: 'HMAC', permissions: perms, label: label || undefined });
      setCreated(k);
      setLabel('');
      await load();
    } catch (err) {
      setError(errText(err));
    } finally {
      setBusy(false);
    }
  };

  const remove = async (id: number) => {
    setError(null);
    try {
      await del('/api/v1/apiKeys', { id });
      if (created?.id === id) setCreated(null);
      await load();
    } catch (err) {
      setError(errText(err));
    }
  };

  const copy = async () => {
    if (!created?.secretKey) return;
    try {
      await navigator.clipboard.writeText(created.secretKey);
      setCopied(true);
    } catch {
      setError('Copying was refused by the browser: select the secret and copy it by hand');
    }
  };

  return (
    <main className="keys-page">
      <form className="panel keys-card" onSubmit={(e) => void create(e)}>
        <h1>API keys</h1>
        <p className="muted">Keys let programs trade for you through the Binance-compatible API (HMAC signatures).</p>
        <div className="keys-create">
          <input className="input" placeholder="Label (e.g. my bot)" maxLength={128} data-testid="apikey-label"
            value={label} onChange={(e) => setLabel(e.target.value)} />
          <label><input type="checkbox" data-testid="apikey-perm-read" checked={read} onChange={(e) => setRead(e.target.checked)} /> Read</label>
          <label><input type="checkbox" data-testid="apikey-perm-trade" checked={trade} onChange={(e) => setTrade(e.target.checked)} /> Trade</label>
          <button className="btn btn-primary" type="submit" data-testid="apikey-create" disabled={busy}>Create key</button>
        </div>
        {error && <div className="error" data-testid="apikey-error" role="alert">{error}</div>}
        {created && (
          <div className="keys-secret" role="alert">
            <strong>Copy the secret now: it is shown only this once and cannot be recovered.</strong>
            <div className="keys-kv"><span className="muted">API key</span><code className="num">{created.apiKey}</code></div>
            {created.secretKey && (
              <div className="keys-kv">
                <span className="muted">Secret</span>
                <code className="num" data-testid="apikey-secret">{created.secretKey}</code>
                <button type="button" className="btn btn-small" onClick={() => void copy()}>{copied ? 'Copied' : 'Copy'}</button>
              </div>
            )}
            <button type="button" className="btn btn-small" onClick={() => setCreated(null)}>I stored it, hide it</button>
          </div>
        )}
      </form>
      <div className="panel keys-card">
        <h2>Your keys</h2>
        {keys === null ? (
          <p className="muted">Loading…</p>
        ) : keys.length === 0 ? (
          <p className="muted">No keys yet.</p>
        ) : (
          <div className="keys-table">
            <table className="grid">
              <thead><tr><th>Label</th><th>API key</th><th>Permissions</th><th>Created</th><th /></tr></thead>
              <tbody>
                {keys.map((k) => (
                  <tr key={k.id} data-testid="apikey-row" data-apikey={k.apiKey} data-id={k.id}>
                    <td>{k.label || <span className="muted">—</span>}</td>
                    <td className="num keys-key" title={k.apiKey}>{k.apiKey}</td>
                    <td>{k.permissions.join(', ')}{k.ipAllowList ? ` · IPs: ${k.ipAllowList.join(', ')}` : ''}</td>
                    <td>{new Date(k.createdAt).toLocaleString()}</td>
                    <td className="r"><button className="btn btn-small" data-testid="apikey-delete" onClick={() => void remove(k.id)}>Delete</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </main>
  );
}
