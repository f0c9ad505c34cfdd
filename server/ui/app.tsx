/**
 * The Weather Station: the page frame (landmarks, navigation, the connection's state), the
 * choice of collection root, logging in with a token when the server asks for one, and the
 * pages by route: `#/` overview, `#/jobs` the job list, `#/job/<id>` one job, `#/workers`.
 */
import { useEffect, useState } from 'preact/hooks';
import type { DdpConnection } from './ddp/ddp-connection.ts';
import { DdpError } from './ddp/ddp-connection.ts';
import { useConnection, useRoute } from './hooks.ts';
import { JobPage } from './pages/job-page.tsx';
import { Jobs } from './pages/jobs.tsx';
import { Overview } from './pages/overview.tsx';
import { Workers } from './pages/workers.tsx';

const tokenKey = 'cumulus-token';

export function App({ connection, roots }: { connection: DdpConnection; roots: string[] }) {
  useConnection(connection);
  const route = useRoute();
  const [root, setRoot] = useState(roots[0] ?? 'queue');
  const [auth, setAuth] = useState<'unknown' | 'needed' | 'ok'>('unknown');
  const [loginError, setLoginError] = useState<string | undefined>();

  // Whether this connection may read: a token kept from before is tried first.
  useEffect(() => {
    let current = true;
    const check = async () => {
      const saved = sessionStorage.getItem(tokenKey);
      if (saved !== null) {
        try {
          await connection.login(saved);
        } catch {
          sessionStorage.removeItem(tokenKey);
        }
      }
      try {
        await connection.call(`${root}_getJob`, []);
        if (current) setAuth('ok');
      } catch (error) {
        if (current) setAuth(error instanceof DdpError && error.error === 403 ? 'needed' : 'ok');
      }
    };
    void check();
    return () => {
      current = false;
    };
  }, [connection, root]);

  // The kept token was refused on a reconnection: ask for one again.
  useEffect(() => connection.onAuthLost(() => {
    sessionStorage.removeItem(tokenKey);
    setAuth('needed');
  }), [connection]);

  const login = async (token: string) => {
    try {
      await connection.login(token);
      sessionStorage.setItem(tokenKey, token);
      setLoginError(undefined);
      setAuth('ok');
    } catch (error) {
      setLoginError(error instanceof DdpError ? (error.reason ?? String(error.error)) : 'login failed');
    }
  };

  const [page = 'overview', id] = route.path;
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          <span aria-hidden="true">☁</span> Cumulus Weather Station
        </a>
        <nav aria-label="Pages">
          <a href="#/" aria-current={page === 'overview' ? 'page' : undefined}>
            Overview
          </a>
          <a href="#/jobs" aria-current={page === 'jobs' ? 'page' : undefined}>
            Jobs
          </a>
          <a href="#/workers" aria-current={page === 'workers' ? 'page' : undefined}>
            Workers
          </a>
        </nav>
        {roots.length > 1 && (
          <label>
            Collection{' '}
            <select value={root} onChange={(event) => setRoot(event.currentTarget.value)}>
              {roots.map((name) => (
                <option key={name}>{name}</option>
              ))}
            </select>
          </label>
        )}
        <p class={`connection connection-${connection.status}`} role="status">
          {connection.status === 'connected' ? '● live' : connection.status === 'connecting' ? '○ connecting…' : '○ offline, reconnecting…'}
        </p>
      </header>
      <main id="main">
        {auth === 'needed' ? (
          <Login onLogin={login} error={loginError} />
        ) : auth === 'unknown' ? (
          <p role="status">Connecting…</p>
        ) : page === 'jobs' ? (
          <Jobs key={root} connection={connection} root={root} route={route} />
        ) : page === 'workers' ? (
          <Workers connection={connection} root={root} />
        ) : page === 'job' && id !== undefined ? (
          <JobPage key={id} connection={connection} root={root} id={id} />
        ) : (
          <Overview key={root} connection={connection} root={root} />
        )}
      </main>
    </>
  );
}

function Login({ onLogin, error }: { onLogin: (token: string) => Promise<void>; error: string | undefined }) {
  const [token, setToken] = useState('');
  return (
    <form
      class="login"
      aria-labelledby="login-title"
      onSubmit={(event) => {
        event.preventDefault();
        void onLogin(token);
      }}
    >
      <h1 id="login-title">Log in</h1>
      <p>This server asks for a token (one of CUMULUS_TOKENS). An admin or manager token allows the actions; others only read.</p>
      <label>
        Token <input type="password" autoComplete="current-password" value={token} onInput={(event) => setToken(event.currentTarget.value)} required />
      </label>
      <button type="submit">Log in</button>
      {error !== undefined && <p role="alert">Refused: {error}</p>}
    </form>
  );
}
