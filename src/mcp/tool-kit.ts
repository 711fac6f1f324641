import { createHash, randomUUID } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AuditLog } from '../ports/audit-log.js';

/** A refusal the caller may see in full (bad input, no permission). */
export class ToolRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolRefused';
  }
}

export interface ToolOutcome {
  readonly text: string;
  readonly structured?: Record<string, unknown>;
  readonly nodes?: readonly string[];
  /** The tool ran but what it ran failed (a host unreachable, a unit missing). */
  readonly failed?: boolean;
}

/** Long values (file contents) are recorded by size and digest, never in full. */
export function auditArguments(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (typeof value === 'string' && value.length > 200) {
      out[key] = `<${value.length} chars, sha256 ${createHash('sha256').update(value).digest('hex').slice(0, 16)}>`;
    } else {
      out[key] = value;
    }
  }
  return out;
}

export interface Audited {
  readonly audit: AuditLog;
  readonly operator: string;
  readonly now: () => Date;
}

/**
 * Wraps a tool handler: one audit line per call (ok, failed or refused), and every error turned
 * into a tool error whose text is safe to show. Unexpected errors say only that the tool failed:
 * their messages could carry local paths or library internals.
 */
export function audited<A extends Record<string, unknown>>(
  deps: Audited,
  tool: string,
  handler: (args: A) => Promise<ToolOutcome>,
): (args: A) => Promise<CallToolResult> {
  return async (args: A) => {
    const started = deps.now().getTime();
    let outcome: ToolOutcome | undefined;
    let result: 'ok' | 'failed' | 'refused' = 'failed';
    let detail: string | undefined;
    try {
      outcome = await handler(args);
      result = outcome.failed ? 'failed' : 'ok';
      return {
        content: [{ type: 'text', text: outcome.text }],
        ...(outcome.structured === undefined ? {} : { structuredContent: outcome.structured }),
        ...(outcome.failed ? { isError: true } : {}),
      };
    } catch (err) {
      const known = err instanceof ToolRefused || (err as { name?: string }).name === 'UserError' || (err as { name?: string }).name === 'ProjectFileError';
      result = known ? 'refused' : 'failed';
      detail = known ? (err as Error).message : `internal error: ${(err as Error).name}`;
      return { content: [{ type: 'text', text: known ? `refused: ${(err as Error).message}` : `${tool} failed: internal error` }], isError: true };
    } finally {
      const nodes = outcome?.nodes ?? [];
      const durationMs = deps.now().getTime() - started;
      await deps.audit
        .append({
          v: 1,
          id: randomUUID(),
          who: deps.operator,
          when: new Date(started).toISOString(),
          command: `mcp ${tool}`,
          selector: typeof args.node === 'string' ? [args.node] : typeof args.selector === 'string' ? [args.selector] : [],
          nodes,
          result,
          results: nodes.map((node) => ({ node, ok: result === 'ok', durationMs })),
          durationMs,
          source: 'mcp',
          arguments: auditArguments(args),
          ...(detail === undefined ? {} : { detail }),
        })
        .catch(() => undefined);
    }
  };
}
