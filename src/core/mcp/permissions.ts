import { UserError } from '../../domain/errors.js';

/**
 * What an MCP server may change, as granted on its command line (`--allow restart-unit:test`).
 * Nothing an assistant sends can add to it: grants are fixed when the server starts.
 */
export const WRITE_ACTIONS = ['restart-unit'] as const;
export type WriteAction = (typeof WRITE_ACTIONS)[number];

export interface Grant {
  readonly action: WriteAction;
  /** A tier name, or `all` (every tier except the protected ones, which must be named). */
  readonly scope: string;
}

const WORD = /^[a-z][a-z0-9-]{0,31}$/;

export function parseGrants(values: readonly string[]): Grant[] {
  return values.map((value) => {
    const [action, scope, extra] = value.split(':');
    if (!WRITE_ACTIONS.includes(action as WriteAction) || scope === undefined || extra !== undefined || !WORD.test(scope)) {
      throw new UserError(`--allow ${JSON.stringify(value)}: expected ACTION:TIER with ACTION one of ${WRITE_ACTIONS.join(', ')} and TIER a tier name or "all"`, {
        hints: ['e.g. --allow restart-unit:test'],
      });
    }
    return { action: action as WriteAction, scope };
  });
}

/**
 * Whether `action` may touch a node of `tier`. A node without a tier is only reachable through
 * `all`; a protected tier (prod by default) only through a grant that names it.
 */
export function isGranted(grants: readonly Grant[], action: WriteAction, tier: string | undefined, protectedTiers: readonly string[]): boolean {
  return grants.some((grant) => {
    if (grant.action !== action) return false;
    if (tier !== undefined && grant.scope === tier) return true;
    return grant.scope === 'all' && (tier === undefined || !protectedTiers.includes(tier));
  });
}
