import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Who may use the dashboard: whoever holds the access token printed at start. A correct token
 * opens a session (a random id in an HttpOnly, SameSite=Strict cookie); every state-changing
 * request must also carry the session's CSRF token. Sessions live in memory only: restarting
 * the dashboard logs everyone out, which is what a short-lived admin panel should do.
 */
export class AccessControl {
  readonly token: string;
  private readonly sessions = new Map<string, { csrf: string; expires: number }>();

  constructor(
    private readonly now: () => number,
    private readonly sessionMs = 8 * 3600_000,
    token?: string,
  ) {
    this.token = token ?? randomBytes(24).toString('base64url');
  }

  /** Constant-time comparison, so the token cannot be guessed byte by byte from timings. */
  tokenMatches(candidate: string | undefined): boolean {
    if (candidate === undefined) return false;
    const a = Buffer.from(candidate);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  openSession(): { id: string; csrf: string } {
    const id = randomBytes(24).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    this.sessions.set(id, { csrf, expires: this.now() + this.sessionMs });
    return { id, csrf };
  }

  /** The session's CSRF token, or undefined when the id is unknown or expired. */
  session(id: string | undefined): { csrf: string } | undefined {
    if (id === undefined) return undefined;
    const found = this.sessions.get(id);
    if (found === undefined) return undefined;
    if (found.expires < this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return { csrf: found.csrf };
  }

  csrfMatches(id: string | undefined, candidate: string | undefined): boolean {
    const found = this.session(id);
    if (found === undefined || candidate === undefined) return false;
    const a = Buffer.from(candidate);
    const b = Buffer.from(found.csrf);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

/** At most `limit` attempts per key in each window: login guesses and actions stay slow. */
export class RateLimit {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  allow(key: string): boolean {
    const time = this.now();
    const current = this.windows.get(key);
    if (current === undefined || time - current.start >= this.windowMs) {
      this.windows.set(key, { start: time, count: 1 });
      return true;
    }
    current.count += 1;
    return current.count <= this.limit;
  }
}
