/**
 * Waiting for the API's asynchronous actions (create_server, start_server, delete_server). Every
 * server of a batch is waited for together: each round is ONE `GET /actions?id=..&id=..` for all
 * pending actions (split into chunks of 25 ids), so a fleet of 20 costs one request per second,
 * not twenty, against the 3600-per-hour budget.
 */
import { UserError } from '../../../domain/errors.js';
import type { ProviderEvent } from '../../../ports/provider.js';
import { describeFailure, field, type HetznerClient } from './client.js';

export type ActionStatus = 'running' | 'success' | 'error';

export interface ActionState {
  readonly id: number;
  readonly command: string;
  readonly status: ActionStatus;
  /** The action's own error message, when it ended in `error`. */
  readonly error?: string;
}

/** One server's actions; the server is ready when all of them succeeded. */
export interface ActionWork {
  readonly server: string;
  readonly actions: readonly ActionState[];
}

export type WaitResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface WaitOptions {
  /** Time between rounds; the caller keeps it at 1 s or more. */
  readonly pollIntervalMs: number;
  /** For the whole batch, from the first round. */
  readonly timeoutMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
}

/** Ids per request: keeps the URL short and within one page of the listing. */
const IDS_PER_REQUEST = 25;
/** A poll that fails this many rounds in a row ends the wait; one 503 should not. */
const MAX_FAILED_ROUNDS = 3;

/** An action as the API describes it; undefined when it is not shaped like one. */
export function readAction(raw: unknown): ActionState | undefined {
  const id = field(raw, 'id');
  const command = field(raw, 'command');
  const status = field(raw, 'status');
  if (typeof id !== 'number' || typeof command !== 'string') return undefined;
  if (status !== 'running' && status !== 'success' && status !== 'error') return undefined;
  const message = field(raw, 'error', 'message');
  return { id, command, status, ...(typeof message === 'string' ? { error: message } : {}) };
}

/** The actions a create or delete answer started: `action` plus `next_actions`, when present. */
export function startedActions(body: unknown): ActionState[] {
  const next = field(body, 'next_actions');
  const raw = [field(body, 'action'), ...(Array.isArray(next) ? (next as unknown[]) : [])];
  return raw.map(readAction).filter((action): action is ActionState => action !== undefined);
}

const PHRASES: Readonly<Record<string, string>> = {
  create_server: 'be created',
  start_server: 'start',
  delete_server: 'be deleted',
};

/** "server web1 to be created and start (action 3 create_server, action 4 start_server)". */
function waitingFor(server: string, actions: readonly ActionState[]): string {
  const phrases = [...new Set(actions.map((action) => PHRASES[action.command] ?? `finish ${action.command}`))];
  const ids = actions.map((action) => `action ${action.id} ${action.command}`).join(', ');
  return `server ${server} to ${phrases.join(' and ')} (${ids})`;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

/**
 * Waits until every server's actions succeeded, one failed, or `timeoutMs` passed; returns one
 * result per server. Errors of the API are results too, except a bug (not a UserError).
 */
export async function waitForActions(
  client: HetznerClient,
  work: readonly ActionWork[],
  options: WaitOptions,
  onEvent: (event: ProviderEvent) => void = () => {},
): Promise<Map<string, WaitResult>> {
  const results = new Map<string, WaitResult>();
  /** Per server, the actions still running, by id. */
  const pending = new Map<string, Map<number, ActionState>>();
  const owner = new Map<number, string>();

  const apply = (server: string, action: ActionState): void => {
    const running = pending.get(server);
    if (running === undefined || !running.has(action.id)) return;
    if (action.status === 'error') {
      // The other actions of a failed server may never finish; stop waiting for them.
      pending.delete(server);
      results.set(server, { ok: false, reason: `${action.command} (action ${action.id}) failed: ${action.error ?? 'no error message'}` });
    } else if (action.status === 'success') {
      running.delete(action.id);
      if (running.size === 0) {
        pending.delete(server);
        results.set(server, { ok: true });
      }
    }
  };

  for (const { server, actions } of work) {
    pending.set(server, new Map(actions.map((action) => [action.id, action])));
    for (const action of actions) owner.set(action.id, server);
    for (const action of actions) apply(server, action);
    if (actions.length === 0) {
      pending.delete(server);
      results.set(server, { ok: true });
    }
  }
  for (const [server, running] of pending) {
    for (const action of running.values()) onEvent({ kind: 'waiting', what: action.command, server });
  }

  const started = options.now();
  let failedRounds = 0;
  while (pending.size > 0) {
    if (options.now() - started >= options.timeoutMs) {
      const seconds = Math.ceil(options.timeoutMs / 1000);
      for (const [server, running] of pending) {
        results.set(server, { ok: false, reason: `timed out after ${seconds} s waiting for ${waitingFor(server, [...running.values()])}` });
      }
      break;
    }
    await options.sleep(options.pollIntervalMs);
    const ids = [...pending.values()].flatMap((running) => [...running.keys()]).sort((a, b) => a - b);
    try {
      for (const chunk of chunks(ids, IDS_PER_REQUEST)) {
        const raw = await client.listAll(`checking actions ${chunk.join(', ')}`, '/actions', 'actions', { id: chunk });
        for (const action of raw.map(readAction)) {
          const server = action === undefined ? undefined : owner.get(action.id);
          if (action !== undefined && server !== undefined) apply(server, action);
        }
      }
      failedRounds = 0;
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      failedRounds += 1;
      if (failedRounds >= MAX_FAILED_ROUNDS) {
        for (const [server, running] of pending) {
          results.set(server, {
            ok: false,
            reason: `stopped waiting for ${waitingFor(server, [...running.values()])}: checking failed ${MAX_FAILED_ROUNDS} times in a row: ${describeFailure(error)}`,
          });
        }
        break;
      }
    }
  }
  return results;
}
