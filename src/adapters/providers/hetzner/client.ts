/**
 * The one place that talks HTTP to the Hetzner Cloud API. It uses hcloud-js for what it does well
 * (an axios instance with the base URL, the Bearer token, its User-Agent and a timeout) and does
 * the rest itself: hcloud-js's error interceptor replaces a failed response by `{code, message}`,
 * dropping the status and the `Retry-After` / `RateLimit-*` headers that rate-limit handling needs,
 * and its list helpers read one page at a time. So every request goes through hcloud-js's axios
 * instance with `validateStatus: () => true`: its error path never runs and we see every answer.
 * See docs/decisions/0006-hcloud-js-with-patched-axios.md.
 */
import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import { OperationFailed, UserError } from '../../../domain/errors.js';

export const DEFAULT_ENDPOINT = 'https://api.hetzner.cloud/v1';
/** The documented maximum; fewer pages means fewer requests against the hourly budget. */
const MAX_PER_PAGE = 50;
/** 50 000 items at 50 per page: far beyond any project, low enough to stop a runaway loop. */
const MAX_PAGES = 1000;

/** Answers of an API that is briefly unavailable; a GET that got one is tried again. */
const TRANSIENT = new Set([502, 503, 504]);
const MAX_TRANSIENT_RETRIES = 3;
/** 1 s, 2 s, 4 s: about as long as the action polls tolerate failing rounds. */
const TRANSIENT_BACKOFF_MS = 1000;

export interface HetznerClientOptions {
  readonly token: string;
  /** `HCLOUD_ENDPOINT`, e.g. `http://127.0.0.1:4000/v1`; defaults to the public API. */
  readonly endpoint?: string | undefined;
  readonly timeoutMs?: number;
  /** Items per page when listing (1..50); default 50. */
  readonly perPage?: number;
  /** How many times one request is retried after a 429; default 5. */
  readonly maxRetries?: number;
  /** Longest single wait for the rate limit; a longer one fails at once. Default 60 s. */
  readonly maxWaitMs?: number;
  /** Injected by tests so retries do not sleep for real. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** An array value repeats the key (`id=1&id=2`), the form the API takes for lists of ids. */
export type Query = Readonly<Record<string, string | number | readonly (string | number)[]>>;

interface RawResponse {
  readonly status: number;
  readonly headers: unknown;
  readonly data: unknown;
}

/** The part of hcloud-js's axios instance this client uses (the package ships no types). */
interface AxiosLike {
  request(config: {
    url: string;
    method: string;
    params?: URLSearchParams;
    data?: unknown;
    validateStatus: () => boolean;
  }): Promise<RawResponse>;
}

/** Reads a nested field without trusting its shape (functions count: an axios instance is one). */
export function field(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if ((typeof current !== 'object' && typeof current !== 'function') || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** hcloud-js is CommonJS without type declarations; load it and check the one thing we use. */
function hcloudAxios(options: { token: string; baseURL: string; timeout: number }): AxiosLike {
  const required: unknown = createRequire(import.meta.url)('hcloud-js');
  const Client = field(required, 'Client');
  if (typeof Client !== 'function') throw new Error('hcloud-js does not export Client');
  const instance: unknown = new (Client as new (opts: unknown) => unknown)(options);
  const axios = field(instance, 'axios');
  if (typeof field(axios, 'request') !== 'function') throw new Error('hcloud-js Client has no axios instance');
  return axios as AxiosLike;
}

function normaliseEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UserError(`HCLOUD_ENDPOINT is not a URL: ${endpoint}`, { hints: ['e.g. https://api.hetzner.cloud/v1'] });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UserError(`HCLOUD_ENDPOINT must be an http(s) URL: ${endpoint}`);
  }
  return endpoint.replace(/\/+$/, '');
}

/**
 * A failed request. `detail` is the message without the operation ("the Hetzner API answered 503
 * unavailable: ..."), so a caller that reports per server can put its own subject in front.
 * `status` is the HTTP status that failed; undefined when no answer arrived or it made no sense.
 */
export class HetznerApiError extends OperationFailed {
  constructor(
    operation: string,
    readonly detail: string,
    readonly status: number | undefined,
    hints: readonly string[] = [],
  ) {
    super(`${operation} failed: ${detail}`, hints);
    this.name = 'HetznerApiError';
  }
}

/** What went wrong, without the operation when the error says it separately. */
export function describeFailure(error: unknown): string {
  if (error instanceof HetznerApiError) return error.detail;
  return error instanceof Error ? error.message : String(error);
}

/** axios would write arrays as `id[]=1`; URLSearchParams repeats the key as the API expects. */
function searchParams(query: Query): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  return params;
}

function header(headers: unknown, name: string): string | undefined {
  const value = field(headers, name.toLowerCase());
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/**
 * How long to wait after a 429. `Retry-After` is exact when present. `RateLimit-Reset` is when the
 * bucket is FULL again (up to an hour away), but it refills gradually (`RateLimit-Limit` per hour),
 * so the next request is allowed after 3600/limit seconds; wait for whichever comes first.
 */
function rateLimitWaitMs(headers: unknown, now: number): number {
  const retryAfter = Number(header(headers, 'retry-after'));
  if (Number.isFinite(retryAfter) && retryAfter >= 0) return Math.max(retryAfter * 1000, 100);
  const reset = Number(header(headers, 'ratelimit-reset'));
  const limit = Number(header(headers, 'ratelimit-limit'));
  const perRequest = limit > 0 ? 3_600_000 / limit : Infinity;
  const untilReset = Number.isFinite(reset) ? reset * 1000 - now : Infinity;
  const wait = Math.min(perRequest, untilReset);
  return Number.isFinite(wait) ? Math.max(wait, 100) : 1000;
}

export class HetznerClient {
  readonly endpoint: string;
  private readonly http: AxiosLike;
  private readonly perPage: number;
  private readonly maxRetries: number;
  private readonly maxWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(options: HetznerClientOptions) {
    if (options.token.trim() === '') throw new UserError('HCLOUD_TOKEN is empty');
    this.endpoint = normaliseEndpoint(options.endpoint ?? DEFAULT_ENDPOINT);
    this.http = hcloudAxios({ token: options.token, baseURL: this.endpoint, timeout: options.timeoutMs ?? 30_000 });
    this.perPage = Math.min(Math.max(Math.trunc(options.perPage ?? MAX_PER_PAGE), 1), MAX_PER_PAGE);
    this.maxRetries = options.maxRetries ?? 5;
    this.maxWaitMs = options.maxWaitMs ?? 60_000;
    this.sleep = options.sleep ?? ((ms) => delay(ms));
    this.now = options.now ?? Date.now;
  }

  /**
   * One request, retried on 429 (the API did not process it, so this is safe for POST too), and a
   * GET also on 502/503/504 (a read repeated changes nothing; a POST might have been processed).
   * `operation` names what the operator asked for ("listing servers") in every error.
   */
  async request(operation: string, method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<unknown> {
    let unavailable = 0;
    for (let attempt = 0; ; attempt += 1) {
      const response = await this.send(operation, method, path, options);
      if (response.status >= 200 && response.status < 300) return response.data;
      if (method === 'GET' && TRANSIENT.has(response.status) && unavailable < MAX_TRANSIENT_RETRIES) {
        await this.sleep(TRANSIENT_BACKOFF_MS * 2 ** unavailable);
        unavailable += 1;
        continue;
      }
      if (response.status !== 429) throw this.failure(operation, response);
      const waitMs = rateLimitWaitMs(response.headers, this.now());
      if (attempt >= this.maxRetries) {
        throw new HetznerApiError(operation, `the Hetzner API rate limit was still exceeded after ${this.maxRetries} retries`, 429, [
          'another tool may be using the same project token; try again in a few minutes',
        ]);
      }
      if (waitMs > this.maxWaitMs) {
        throw new HetznerApiError(
          operation,
          `the Hetzner API rate limit is exhausted for ${Math.ceil(waitMs / 1000)} s, longer than the ${Math.ceil(this.maxWaitMs / 1000)} s this command waits`,
          429,
          ['try again later; the budget refills gradually (see RateLimit-Limit)'],
        );
      }
      await this.sleep(waitMs);
    }
  }

  /**
   * Every item of a list endpoint: follows `meta.pagination.next_page` until it is null (upstream
   * re-read page 1 instead), refusing a next page that does not move forward.
   */
  async listAll(operation: string, path: string, key: string, query: Query = {}): Promise<unknown[]> {
    const items: unknown[] = [];
    let page = 1;
    for (let fetched = 0; fetched < MAX_PAGES; fetched += 1) {
      const body = await this.request(operation, 'GET', path, { query: { ...query, page, per_page: this.perPage } });
      const pageItems = field(body, key);
      if (!Array.isArray(pageItems)) throw unexpected(operation, `no "${key}" list on page ${page}`);
      items.push(...(pageItems as unknown[]));
      const next = field(body, 'meta', 'pagination', 'next_page');
      if (next === null || next === undefined) return items;
      if (typeof next !== 'number' || !Number.isInteger(next) || next <= page) {
        throw unexpected(operation, `page ${page} names next_page ${JSON.stringify(next)}`);
      }
      page = next;
    }
    throw unexpected(operation, `more than ${MAX_PAGES} pages`);
  }

  private async send(operation: string, method: string, path: string, options: { query?: Query; body?: unknown }): Promise<RawResponse> {
    try {
      return await this.http.request({
        url: path,
        method,
        ...(options.query === undefined ? {} : { params: searchParams(options.query) }),
        ...(options.body === undefined ? {} : { data: options.body }),
        validateStatus: () => true,
      });
    } catch (error) {
      const code = field(error, 'code');
      const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
      throw new HetznerApiError(operation, `could not reach the Hetzner API at ${this.endpoint} (${reason})`, undefined, [
        'check the network, or HCLOUD_ENDPOINT if it is set',
      ]);
    }
  }

  /** Turns the API's `{"error":{"code","message"}}` envelope into an error naming the operation. */
  private failure(operation: string, response: RawResponse): UserError {
    const code = field(response.data, 'error', 'code');
    const message = field(response.data, 'error', 'message');
    const codeText = typeof code === 'string' ? code : 'no error code';
    if (response.status === 401) {
      return new UserError('HCLOUD_TOKEN was rejected by the Hetzner API (unauthorized)', {
        hints: [
          `while ${operation}`,
          'create an API token in the Hetzner Cloud Console (project > Security > API tokens) and set HCLOUD_TOKEN',
        ],
      });
    }
    const detail = typeof message === 'string' && message !== '' ? `: ${message}` : '';
    const hints = response.status === 403 ? ['a Read-only token cannot change anything; use a Read & Write token'] : [];
    return new HetznerApiError(operation, `the Hetzner API answered ${response.status} ${codeText}${detail}`, response.status, hints);
  }
}

export function unexpected(operation: string, what: string): HetznerApiError {
  return new HetznerApiError(operation, `unexpected answer from the Hetzner API (${what})`, undefined);
}
