import { UserError } from '../../domain/errors.js';
import { isAttributeWord, isHostnameLabel } from '../../domain/names.js';

/**
 * What `--target` accepts, as data. One flag value may hold several items (upstream's
 * space-separated string, or commas); each item is a union member, `+` inside an item
 * intersects, and a leading `!` makes the whole item an exclusion.
 */
export type SelectorTerm =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'glob'; readonly pattern: string }
  | { readonly kind: 'tag'; readonly tag: string }
  | { readonly kind: 'role'; readonly role: string }
  | { readonly kind: 'tier'; readonly tier: string }
  | { readonly kind: 'all' };

export interface SelectorItem {
  /** The item as the operator wrote it (without the `!`), for messages. */
  readonly text: string;
  readonly exclude: boolean;
  /** Intersected: a node is in the item when every term matches it. */
  readonly terms: readonly SelectorTerm[];
}

const GLOB = /^[A-Za-z0-9*?-]{1,63}$/;

/** Splits flag values into items; order kept, exact duplicates dropped (as parseTargetList did). */
export function parseSelectors(values: readonly string[]): SelectorItem[] {
  const texts = [...new Set(values.flatMap((value) => value.split(/[\s,]+/)).filter((text) => text !== ''))];
  return texts.map(parseItem);
}

function parseItem(raw: string): SelectorItem {
  const exclude = raw.startsWith('!');
  const text = exclude ? raw.slice(1) : raw;
  if (text === '') throw badSelector(raw, '"!" needs a selector after it, e.g. !web1 or !@canary');
  const terms = text.split('+').map((part) => parseTerm(part, raw));
  return { text, exclude, terms };
}

function parseTerm(part: string, item: string): SelectorTerm {
  if (part === '') throw badSelector(item, '"+" joins two selectors, e.g. tier:prod+role:web');
  if (part === 'all') return { kind: 'all' };
  if (part.startsWith('@')) return { kind: 'tag', tag: attribute(part.slice(1), item, 'tag') };
  const colon = part.indexOf(':');
  if (colon >= 0) {
    const key = part.slice(0, colon);
    const value = attribute(part.slice(colon + 1), item, key);
    if (key === 'role') return { kind: 'role', role: value };
    if (key === 'tier') return { kind: 'tier', tier: value };
    throw badSelector(item, `unknown selector kind "${key}:"; known: role:NAME, tier:NAME, @TAG`);
  }
  if (part.includes('*') || part.includes('?')) {
    if (!GLOB.test(part)) throw badSelector(item, 'a glob may use letters, digits, "-", "*" and "?"');
    return { kind: 'glob', pattern: part };
  }
  if (!isHostnameLabel(part)) throw badSelector(item, 'node names are hostnames: letters, digits and "-"');
  return { kind: 'name', name: part };
}

function attribute(value: string, item: string, what: string): string {
  if (!isAttributeWord(value)) {
    throw badSelector(item, `a ${what} is 1-63 letters, digits, ".", "_" or "-", starting and ending with a letter or digit`);
  }
  return value;
}

function badSelector(item: string, hint: string): UserError {
  return new UserError(`not a valid node name or selector: ${JSON.stringify(item)}`, {
    hints: [hint, 'selectors: NAME, web-*, @tag, role:NAME, tier:NAME, all, !SELECTOR, A+B (see docs/targeting.md)'],
  });
}

/** The item as text again, `!` included. */
export function itemText(item: SelectorItem): string {
  return `${item.exclude ? '!' : ''}${item.text}`;
}
