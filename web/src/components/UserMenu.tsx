// The account corner of the top bar: log in / sign up links when signed out; the email, the
// API-key page and log out when signed in. Log out ends the cookie session on the server
// (DELETE /api/v1/web/session, which also clears the HttpOnly cookie) before forgetting the user.
import { useState } from 'react';
import { useApp } from '../state';
import { del } from '../lib/api';
import './UserMenu.css';

export function UserMenu() {
  const { me, setMe, navigate } = useApp();
  const [busy, setBusy] = useState(false);
  if (me === undefined) return <div className="user-menu" />;
  if (me === null)
    return (
      <div className="user-menu">
        <a className="btn btn-small" href="#/login" data-testid="nav-login">Log in</a>
        <a className="btn btn-small btn-primary" href="#/signup" data-testid="nav-signup">Sign up</a>
      </div>
    );
  const logout = async () => {
    setBusy(true);
    try {
      await del('/api/v1/web/session');
    } catch {
      /* the session may be gone already; the page forgets it either way */
    }
    setBusy(false);
    setMe(null);
    navigate('/');
  };
  return (
    <div className="user-menu">
      <span className="user-email" data-testid="user-email" title={me.email}>{me.email}</span>
      <a className="btn btn-small" href="#/api-keys" data-testid="nav-apikeys">API keys</a>
      <button className="btn btn-small" data-testid="nav-logout" disabled={busy} onClick={() => void logout()}>Log out</button>
    </div>
  );
}
