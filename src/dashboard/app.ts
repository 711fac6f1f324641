import { Hono, type Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import { streamSSE } from 'hono/streaming';
import type { AccessControl, RateLimit } from './access.js';
import { DASHBOARD_CSS, DASHBOARD_JS } from './assets.js';
import { fleetPage, loginPage } from './page.js';
import type { FleetSnapshot, StatusPoller } from './poller.js';

export interface DashboardDeps {
  readonly project: string;
  readonly access: AccessControl;
  readonly poller: StatusPoller;
  readonly loginLimit: RateLimit;
  readonly actionLimit: RateLimit;
  /** Cookies are marked Secure when the dashboard is served over TLS. */
  readonly secure: boolean;
  /** The peer address of a request, for rate limits. */
  readonly clientOf: (c: Context) => string;
}

const SESSION_COOKIE = 'nix_infra_session';

/**
 * The dashboard's HTTP surface. Everything but the login form needs a session; everything that
 * changes state needs the session's CSRF token too. Responses carry a strict CSP (our own script
 * and style only), no framing, no referrer; snapshots hold status data only, never secrets.
 */
export function createDashboardApp(deps: DashboardDeps): Hono {
  const app = new Hono();
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        connectSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
      xFrameOptions: 'DENY',
    }),
  );
  app.use('*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });

  const sessionOf = (c: Context): { id: string; csrf: string } | undefined => {
    const id = getCookie(c, SESSION_COOKIE);
    const found = deps.access.session(id);
    return found === undefined || id === undefined ? undefined : { id, csrf: found.csrf };
  };

  const logIn = (c: Context, token: string | undefined): Response | Promise<Response> => {
    if (!deps.loginLimit.allow(deps.clientOf(c))) return c.text('too many login attempts; wait a minute', 429);
    if (!deps.access.tokenMatches(token)) return c.html(loginPage('That is not the access token.'), 401);
    const session = deps.access.openSession();
    setCookie(c, SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'Strict', secure: deps.secure, path: '/' });
    return c.redirect('/', 303);
  };

  app.get('/login', (c) => {
    const token = c.req.query('token');
    return token === undefined ? c.html(loginPage()) : logIn(c, token);
  });
  app.post('/login', async (c) => {
    const body = await c.req.parseBody();
    return logIn(c, typeof body.token === 'string' ? body.token : undefined);
  });

  app.get('/assets/dashboard.js', (c) => c.body(DASHBOARD_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
  app.get('/assets/dashboard.css', (c) => c.body(DASHBOARD_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' }));

  // Every route below needs a session: a browser is sent to the login form, anything else gets 401.
  app.use('*', async (c, next) => {
    if (sessionOf(c) !== undefined) return next();
    if (c.req.method === 'GET' && c.req.path === '/') return c.html(loginPage(), 401);
    return c.text('unauthorized: log in with the access token first', 401);
  });

  app.get('/', (c) => c.html(fleetPage(deps.project, deps.poller.snapshot?.hosts, (sessionOf(c) as { csrf: string }).csrf)));

  app.get('/api/status', (c) => c.json(deps.poller.snapshot ?? { at: null, hosts: [] }));

  app.get('/events', (c) =>
    streamSSE(c, async (stream) => {
      const send = (snapshot: FleetSnapshot) => void stream.writeSSE({ event: 'snapshot', data: JSON.stringify(snapshot) });
      const current = deps.poller.snapshot;
      if (current !== undefined) send(current);
      const unsubscribe = deps.poller.subscribe(send);
      await new Promise<void>((resolve) => stream.onAbort(resolve));
      unsubscribe();
    }),
  );

  app.post('/actions/refresh', async (c) => {
    const session = sessionOf(c) as { id: string };
    const body = await c.req.parseBody();
    if (!deps.access.csrfMatches(session.id, typeof body.csrf === 'string' ? body.csrf : undefined)) return c.text('refused: missing or wrong CSRF token', 403);
    if (!deps.actionLimit.allow(session.id)) return c.text('too many actions; wait a minute', 429);
    void deps.poller.refresh();
    return c.redirect('/', 303);
  });

  return app;
}
