// Things that make requests fail on purpose: the documented rate limit and test-programmed faults.

/**
 * Token bucket with the documented semantics: `RateLimit-Limit` requests per hour, the remaining
 * budget refilling gradually (3600/h means one more request every second), and `RateLimit-Reset`
 * the UNIX time at which the bucket is full again. Driven by the same clock as the actions.
 */
export class RateLimiter {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private limit: number,
    private readonly now: () => number,
  ) {
    this.tokens = limit;
    this.updatedAt = now();
  }

  /** Changes the hourly budget and refills the bucket, e.g. to make a test exhaust it quickly. */
  setLimit(limit: number): void {
    this.limit = limit;
    this.reset();
  }

  reset(): void {
    this.tokens = this.limit;
    this.updatedAt = this.now();
  }

  /** Milliseconds per request of budget; integral for sensible limits, which keeps headers exact. */
  private msPerToken(): number {
    return this.limit > 0 ? 3_600_000 / this.limit : Infinity;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.limit, this.tokens + Math.max(0, now - this.updatedAt) / this.msPerToken());
    this.updatedAt = now;
  }

  /** Spends one request if there is budget; returns whether it was allowed. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  headers(): Record<string, string> {
    const msToFull = this.limit > 0 ? (this.limit - this.tokens) * this.msPerToken() : 0;
    return {
      'RateLimit-Limit': String(this.limit),
      'RateLimit-Remaining': String(Math.floor(this.tokens)),
      'RateLimit-Reset': String(Math.ceil((this.now() + msToFull) / 1000)),
    };
  }

  /** Whole seconds until one more request is allowed (at least 1, as clients sleep on it). */
  retryAfterSeconds(): number {
    if (this.limit <= 0) return 3600;
    return Math.max(1, Math.ceil(((1 - this.tokens) * this.msPerToken()) / 1000));
  }
}

export interface FaultRule {
  /** Upper-case HTTP method; any method when omitted. */
  readonly method?: string;
  /** Tested against the request path, e.g. `/^\/v1\/servers$/`. */
  readonly path: RegExp;
  readonly status: number;
  /** How many matching requests fail; default 1. `Infinity` keeps failing until `clear()`. */
  readonly times?: number;
  /** Error code in the envelope; defaults to the documented code for `status`. */
  readonly code?: string;
  readonly message?: string;
  /** Extra predicate on the parsed JSON body (undefined when there was none). */
  readonly match?: (body: unknown) => boolean;
}

/** Test-programmed failures, consumed in the order they were pushed. */
export class Faults {
  private rules: { rule: FaultRule; remaining: number }[] = [];
  private forcedRateLimits = 0;

  push(...rules: FaultRule[]): void {
    for (const rule of rules) this.rules.push({ rule, remaining: rule.times ?? 1 });
  }

  /** The next `count` requests answer 429 `rate_limit_exceeded`, whatever the budget says. */
  rateLimitNext(count: number): void {
    this.forcedRateLimits += count;
  }

  clear(): void {
    this.rules = [];
    this.forcedRateLimits = 0;
  }

  /** Faults not yet fired: lets a test assert that everything it injected was exercised. */
  get pending(): number {
    return this.rules.reduce((sum, entry) => sum + entry.remaining, 0) + this.forcedRateLimits;
  }

  takeRateLimit(): boolean {
    if (this.forcedRateLimits <= 0) return false;
    this.forcedRateLimits -= 1;
    return true;
  }

  take(method: string, path: string, body: unknown): FaultRule | undefined {
    const index = this.rules.findIndex(({ rule }) => {
      rule.path.lastIndex = 0; // a /g regex would otherwise remember where it last matched
      return (rule.method === undefined || rule.method.toUpperCase() === method) && rule.path.test(path) && (rule.match?.(body) ?? true);
    });
    const entry = this.rules[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.rules.splice(index, 1);
    return entry.rule;
  }
}
