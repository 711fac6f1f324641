// The HTTP layer of the fake Hetzner Cloud API: one loopback listener that applies, in this order,
// latency, rate limiting, authentication, injected faults and routing, and records every exchange
// so tests can assert on what a client actually sent.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, defaultCode } from './errors.js';
import { Faults, RateLimiter } from './limits.js';
import { linkHeader } from './query.js';
import type { RouteResponse, ServerHooks } from './routes.js';
import { createRoutes, resolve } from './routes.js';
import type { Ipv4Allocator } from './state.js';
import { HetznerState, testNetAllocator } from './state.js';

export type { FaultRule } from './limits.js';
export type { ServerHooks, ServerSummary } from './routes.js';

export interface HetznerApiOptions extends ServerHooks {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** The only Bearer token accepted; default `test-token`. */
  readonly token?: string;
  /** Delay before each request is handled, in real milliseconds; default 0. */
  readonly latencyMs?: number;
  /** How long create/delete actions stay `running`, on the `now` clock; default 500. */
  readonly actionMs?: number;
  /** Requests per hour (`RateLimit-Limit`); default 3600 as documented. */
  readonly rateLimit?: number;
  /** Clock in milliseconds for actions, timestamps and the rate limit; default `Date.now`. */
  readonly now?: () => number;
  readonly allocateIpv4?: Ipv4Allocator;
  /** How many requests `requests` keeps (oldest dropped first); default 1000. */
  readonly maxLoggedRequests?: number;
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly status: number;
  /** Clock time (the `now` option) at which the request was answered. */
  readonly time: number;
  /** Parsed JSON body; undefined when there was none (or it did not parse). */
  readonly body: unknown;
}

export interface Counters {
  total: number;
  /** Keyed by status code, e.g. `"429"`. */
  readonly byStatus: Record<string, number>;
  /** Keyed by method and path with ids generalised, e.g. `"GET /v1/servers/{id}"`. */
  readonly byRoute: Record<string, number>;
}

export interface HetznerApi {
  /** What `HCLOUD_ENDPOINT` should be set to: `http://127.0.0.1:<port>/v1`. */
  readonly endpoint: string;
  readonly port: number;
  readonly token: string;
  readonly state: HetznerState;
  readonly faults: Faults;
  readonly rateLimiter: RateLimiter;
  readonly requests: readonly RequestRecord[];
  readonly counters: Counters;
  latencyMs: number;
  /** Lets every running action succeed now; returns how many did. */
  completeActions(): number;
  /** Back to an empty cloud: state, ids, faults, rate-limit budget, log and counters. */
  reset(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, 'json_error', 'request body is not valid JSON');
  }
}

export async function startHetznerApi(options: HetznerApiOptions = {}): Promise<HetznerApi> {
  const now = options.now ?? Date.now;
  const token = options.token ?? 'test-token';
  const maxLogged = options.maxLoggedRequests ?? 1000;
  const state = new HetznerState({ now, actionMs: options.actionMs ?? 500, allocateIpv4: options.allocateIpv4 ?? testNetAllocator() });
  const routes = createRoutes(state, { onServerCreated: options.onServerCreated, onServerDeleted: options.onServerDeleted });
  const faults = new Faults();
  const rateLimiter = new RateLimiter(options.rateLimit ?? 3600, now);
  const requests: RequestRecord[] = [];
  const counters: Counters = { total: 0, byStatus: {}, byRoute: {} };
  let origin = '';

  const record = (entry: RequestRecord): void => {
    requests.push(entry);
    if (requests.length > maxLogged) requests.splice(0, requests.length - maxLogged);
    counters.total += 1;
    const status = String(entry.status);
    counters.byStatus[status] = (counters.byStatus[status] ?? 0) + 1;
    const route = `${entry.method} ${entry.path.replace(/\/\d+(?=\/|$)/g, '/{id}')}`;
    counters.byRoute[route] = (counters.byRoute[route] ?? 0) + 1;
  };

  /** Everything between "request arrived" and "answer chosen"; throws ApiError for failures. */
  async function handle(method: string, url: URL, authorization: string | undefined, rawBody: string, headers: Record<string, string>): Promise<RouteResponse & { parsedBody: unknown }> {
    let parsedBody: unknown;
    try {
      state.settle();
      if (faults.takeRateLimit()) {
        // A forced limit looks like an exhausted budget: nothing remains, retry in a second.
        Object.assign(headers, rateLimiter.headers(), { 'RateLimit-Remaining': '0', 'RateLimit-Reset': String(Math.ceil(now() / 1000) + 1), 'Retry-After': '1' });
        throw new ApiError(429, 'rate_limit_exceeded', 'limit of requests per hour reached');
      }
      if (!rateLimiter.take()) {
        Object.assign(headers, rateLimiter.headers(), { 'Retry-After': String(rateLimiter.retryAfterSeconds()) });
        throw new ApiError(429, 'rate_limit_exceeded', 'limit of requests per hour reached');
      }
      Object.assign(headers, rateLimiter.headers());
      if (authorization !== `Bearer ${token}`) throw new ApiError(401, 'unauthorized', 'unable to authenticate');
      parsedBody = parseJson(rawBody);
      const fault = faults.take(method, url.pathname, parsedBody);
      if (fault) throw new ApiError(fault.status, fault.code ?? defaultCode(fault.status), fault.message ?? `injected fault (${fault.status})`);
      const { route, params } = resolve(routes, method, url.pathname);
      const response = await route.handler({ params, query: url.searchParams, body: parsedBody });
      if (response.pagination) headers.Link = linkHeader(origin, url.pathname, url.searchParams, response.pagination);
      return { ...response, parsedBody };
    } catch (error) {
      if (error instanceof ApiError) return { status: error.status, body: error.body(), parsedBody };
      const message = error instanceof Error ? error.message : String(error);
      return { status: 500, body: new ApiError(500, 'server_error', message).body(), parsedBody };
    }
  }

  const api = {
    latencyMs: options.latencyMs ?? 0,
  };

  const server = http.createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const method = (request.method ?? 'GET').toUpperCase();
      const rawBody = await readBody(request);
      if (api.latencyMs > 0) await sleep(api.latencyMs);
      const headers: Record<string, string> = {};
      const result = await handle(method, url, request.headers.authorization, rawBody, headers);
      record({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), status: result.status, time: now(), body: result.parsedBody });
      if (result.status === 204 || result.body === undefined) {
        response.writeHead(result.status, headers).end();
        return;
      }
      const payload = JSON.stringify(result.body);
      response.writeHead(result.status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) }).end(payload);
    })().catch((error: unknown) => {
      // Only a broken socket gets here; there is nobody left to answer.
      if (!response.headersSent) response.writeHead(500).end();
      response.destroy(error instanceof Error ? error : undefined);
    });
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  return Object.assign(api, {
    endpoint: `${origin}/v1`,
    port,
    token,
    state,
    faults,
    rateLimiter,
    requests,
    counters,
    completeActions: () => state.completeActions(),
    reset: () => {
      state.reset();
      faults.clear();
      rateLimiter.reset();
      requests.length = 0;
      counters.total = 0;
      for (const key of Object.keys(counters.byStatus)) delete counters.byStatus[key];
      for (const key of Object.keys(counters.byRoute)) delete counters.byRoute[key];
    },
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  });
}
