import { UserError } from '../../domain/errors.js';
import { itemText, parseSelectors, type SelectorItem, type SelectorTerm } from './syntax.js';

/** What selectors look at: a node's name and its inventory attributes. */
export interface SelectableNode {
  readonly name: string;
  readonly tags?: readonly string[];
  readonly role?: string;
  readonly tier?: string;
}

export interface Selection {
  readonly items: readonly SelectorItem[];
  /** Selected node names: first-mentioned first (so `--target "b a"` keeps its order), inventory order within a pattern. */
  readonly names: readonly string[];
}

/**
 * Resolves selectors against the inventory. Every item is checked before anything connects: an
 * item (or one of its `+` terms) that matches no node is an error naming it, and so is a
 * selection that exclusions leave empty; a typo must not shrink a deploy silently.
 */
export function selectNodes(nodes: readonly SelectableNode[], values: readonly string[]): Selection {
  const items = parseSelectors(values);
  if (items.length === 0) throw new UserError('no target given', { hints: ['pass --target with node names or selectors (see docs/targeting.md)'] });
  const unknownNames = items.flatMap((item) => item.terms).flatMap((term) => (term.kind === 'name' && !nodes.some((n) => n.name === term.name) ? [term.name] : []));
  if (unknownNames.length > 0) {
    throw new UserError(`unknown node(s): ${[...new Set(unknownNames)].join(', ')}`, {
      hints: [nodes.length === 0 ? 'the provider lists no servers' : `known nodes: ${nodes.map((s) => s.name).join(', ')}`],
    });
  }
  const included: string[] = [];
  const excluded = new Set<string>();
  for (const item of items) {
    const matched = matchItem(nodes, item);
    if (item.exclude) for (const name of matched) excluded.add(name);
    else for (const name of matched) if (!included.includes(name)) included.push(name);
  }
  if (included.length === 0) {
    throw new UserError(`only exclusions given: ${items.map(itemText).join(' ')}`, { hints: ['add what to select, e.g. all !web1 or tier:test !@canary'] });
  }
  const names = included.filter((name) => !excluded.has(name));
  if (names.length === 0) throw new UserError(`the exclusions leave no node: ${items.map(itemText).join(' ')}`);
  return { items, names };
}

function matchItem(nodes: readonly SelectableNode[], item: SelectorItem): string[] {
  for (const term of item.terms) {
    if (!nodes.some((node) => matchesTerm(node, term))) throw noMatch(itemText(item), termText(term), nodes);
  }
  // An exact name keeps the operator's position in the list; patterns take inventory order.
  const only = item.terms.length === 1 ? item.terms[0] : undefined;
  if (only?.kind === 'name') return [only.name];
  const matched = nodes.filter((node) => item.terms.every((term) => matchesTerm(node, term))).map((node) => node.name);
  if (matched.length === 0) throw noMatch(itemText(item), undefined, nodes);
  return matched;
}

export function matchesTerm(node: SelectableNode, term: SelectorTerm): boolean {
  switch (term.kind) {
    case 'all':
      return true;
    case 'name':
      return node.name === term.name;
    case 'glob':
      return globToRegExp(term.pattern).test(node.name);
    case 'tag':
      return node.tags?.includes(term.tag) ?? false;
    case 'role':
      return node.role === term.role;
    case 'tier':
      return node.tier === term.tier;
  }
}

function termText(term: SelectorTerm): string {
  switch (term.kind) {
    case 'all':
      return 'all';
    case 'name':
      return term.name;
    case 'glob':
      return term.pattern;
    case 'tag':
      return `@${term.tag}`;
    case 'role':
      return `role:${term.role}`;
    case 'tier':
      return `tier:${term.tier}`;
  }
}

function globToRegExp(pattern: string): RegExp {
  // The glob syntax only admits [A-Za-z0-9-*?], so no other character needs escaping.
  return new RegExp(`^${pattern.replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

function noMatch(item: string, term: string | undefined, nodes: readonly SelectableNode[]): UserError {
  const words = (pick: (n: SelectableNode) => readonly (string | undefined)[]) => [...new Set(nodes.flatMap(pick))].filter((w) => w !== undefined).sort();
  const known = [
    `tags: ${words((n) => n.tags ?? []).join(', ') || '(none)'}`,
    `roles: ${words((n) => [n.role]).join(', ') || '(none)'}`,
    `tiers: ${words((n) => [n.tier]).join(', ') || '(none)'}`,
  ];
  const what = term === undefined || term === item ? JSON.stringify(item) : `${JSON.stringify(term)} (in ${JSON.stringify(item)})`;
  return new UserError(`selector matches no node: ${what}`, { hints: [`known ${known.join('; ')}`, 'nix-infra servers list shows every node with its attributes'] });
}
