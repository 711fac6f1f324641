import { UserError } from '../../domain/errors.js';
import type { SelectableNode, Selection } from './resolve.js';

/** The project's rules for commands that change nodes. */
export interface TierPolicy {
  /** Tiers a mutating command may reach only when the selector or --allow-tier names them. */
  readonly protectedTiers: readonly string[];
  /** Whether a bare `all` may select the nodes of a mutating command. */
  readonly allowAll: boolean;
}

export const DEFAULT_TIER_POLICY: TierPolicy = { protectedTiers: ['prod'], allowAll: false };

/**
 * The policy from the project's settings (PROTECTED_TIERS, ALLOW_TARGET_ALL). Unset means the
 * default: `prod` is protected and a bare `all` is refused; PROTECTED_TIERS=none protects nothing.
 */
export function tierPolicy(settings: { protectedTiers?: string; allowAll?: string }): TierPolicy {
  const raw = settings.protectedTiers?.trim();
  const protectedTiers = raw === undefined ? DEFAULT_TIER_POLICY.protectedTiers : raw === '' || raw === 'none' ? [] : raw.split(/[\s,]+/).filter((t) => t !== '');
  const allow = settings.allowAll?.trim().toLowerCase();
  if (allow !== undefined && !['true', 'false', '1', '0', 'yes', 'no'].includes(allow)) {
    throw new UserError(`ALLOW_TARGET_ALL=${JSON.stringify(settings.allowAll)}: use true or false`);
  }
  return { protectedTiers, allowAll: allow === 'true' || allow === '1' || allow === 'yes' };
}

/**
 * Refuses a mutating command whose selection reaches a protected tier the operator did not name
 * (`tier:prod` in a selector, or `--allow-tier prod`), and a bare `all` unless the project allows
 * it: prod is changed only on purpose, the way deploy.<tier>.<host> addressing forces it.
 */
export function guardTiers(nodes: readonly SelectableNode[], selection: Selection, policy: TierPolicy, allowTiers: readonly string[]): void {
  const bareAll = selection.items.some((item) => !item.exclude && item.terms.length === 1 && item.terms[0]?.kind === 'all');
  if (bareAll && !policy.allowAll) {
    throw new UserError('a bare "all" is refused for a command that changes nodes', {
      hints: ['narrow it (e.g. all+tier:test, or tier:test), or set ALLOW_TARGET_ALL=true in the project\'s .env'],
    });
  }
  const named = new Set([
    ...allowTiers,
    ...selection.items.filter((item) => !item.exclude).flatMap((item) => item.terms.flatMap((term) => (term.kind === 'tier' ? [term.tier] : []))),
  ]);
  const tierOf = new Map(nodes.map((node) => [node.name, node.tier]));
  const blocked = new Map<string, string[]>();
  for (const name of selection.names) {
    const tier = tierOf.get(name);
    if (tier === undefined || !policy.protectedTiers.includes(tier) || named.has(tier)) continue;
    blocked.set(tier, [...(blocked.get(tier) ?? []), name]);
  }
  if (blocked.size === 0) return;
  const [tier, names] = [...blocked.entries()][0] as [string, string[]];
  const all = [...blocked.entries()];
  throw new UserError(`protected tier ${all.map(([t, n]) => `${t}: ${n.join(', ')}`).join('; ')}: name the tier to change these nodes`, {
    hints: [`select with tier:${tier} (e.g. --target '${names[0] ?? ''}+tier:${tier}'), or pass --allow-tier ${tier}`],
  });
}
