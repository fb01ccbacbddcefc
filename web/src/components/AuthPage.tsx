// Log in and sign up. Sign up registers (POST /api/v1/users) then logs in; logging in asks for
// a cookie session (POST /api/v1/web/session: the token goes into an HttpOnly cookie the page
// never sees), then reads the user (GET /api/v1/me) and returns to the trading screen.
import { useState, type FormEvent } from 'react';
import { useApp } from '../state';
import { ApiError, get, post } from '../lib/api';
import type { Me } from '../lib/types';
import './AuthPage.css';

export function AuthPage(props: { mode: 'login' | 'signup' }) {
  const { setMe, navigate } = useApp();
  const signup = props.mode === 'signup';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const em = email.trim();
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(em) || em.length > 254) return setError('Enter a valid email address');
    if (signup && (password.length < 8 || password.length > 128)) return setError('The password needs 8 to 128 characters');
    if (!password) return setError('Enter your password');
    setBusy(true);
    setError(null);
    try {
      if (signup) await post('/api/v1/users', { email: em, password });
      await post('/api/v1/web/session', { email: em, password });
      const me = await get<Me>('/api/v1/me');
      setMe(me);
      navigate('/');
    } catch (err) {
      setError(err instanceof ApiError ? err.display : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="auth-page">
      <form className="auth-card panel" onSubmit={(e) => void submit(e)} noValidate>
        <h1>{signup ? 'Create your account' : 'Log in'}</h1>
        <label>
          Email
          <input className="input" type="email" autoComplete="email" data-testid="auth-email" maxLength={254}
            value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        </label>
        <label>
          Password
          <input className="input" type="password" autoComplete={signup ? 'new-password' : 'current-password'} maxLength={128}
            data-testid="auth-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {signup && <p className="muted auth-hint">At least 8 characters; not a common password and not your email.</p>}
        {error && <div className="error" data-testid="auth-error" role="alert">{error}</div>}
        <button className="btn btn-primary" type="submit" data-testid="auth-submit" disabled={busy}>
          {busy ? 'Please wait…' : signup ? 'Sign up' : 'Log in'}
        </button>
        <p className="muted">
          {signup ? 'Already registered? ' : 'No account yet? '}
          <a href={signup ? '#/login' : '#/signup'} data-testid="auth-switch">{signup ? 'Log in' : 'Sign up'}</a>
        </p>
      </form>
    </main>
  );
}
