// List-endpoint query handling shared by every collection: pagination and label selectors.

import { ApiError, invalidInput } from './errors.js';

export interface Pagination {
  readonly page: number;
  readonly per_page: number;
  readonly previous_page: number | null;
  readonly next_page: number | null;
  readonly last_page: number;
  readonly total_entries: number;
}

export interface Page<T> {
  readonly items: T[];
  readonly pagination: Pagination;
}

/** Documented defaults: the first page is 1, `per_page` defaults to 25 and is capped at 50. */
export const DEFAULT_PER_PAGE = 25;
export const MAX_PER_PAGE = 50;

function positiveInt(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw invalidInput(name, 'must be a positive integer');
  return Number(raw);
}

export function paginate<T>(items: readonly T[], query: URLSearchParams): Page<T> {
  const page = positiveInt(query, 'page', 1);
  const perPage = Math.min(positiveInt(query, 'per_page', DEFAULT_PER_PAGE), MAX_PER_PAGE);
  const total = items.length;
  const lastPage = Math.max(1, Math.ceil(total / perPage));
  const start = (page - 1) * perPage;
  return {
    items: items.slice(start, start + perPage),
    pagination: {
      page,
      per_page: perPage,
      previous_page: page > 1 ? page - 1 : null,
      next_page: page < lastPage ? page + 1 : null,
      last_page: lastPage,
      total_entries: total,
    },
  };
}

/** The documented `Link` header (rel prev/next/last) for a page of `basePath`. */
export function linkHeader(origin: string, basePath: string, query: URLSearchParams, pagination: Pagination): string {
  const link = (page: number, rel: string): string => {
    const params = new URLSearchParams(query);
    params.delete('page');
    params.delete('per_page');
    params.append('page', String(page));
    params.append('per_page', String(pagination.per_page));
    return `<${origin}${basePath}?${params.toString()}>; rel="${rel}"`;
  };
  const parts: string[] = [];
  if (pagination.previous_page !== null) parts.push(link(pagination.previous_page, 'prev'));
  if (pagination.next_page !== null) parts.push(link(pagination.next_page, 'next'));
  parts.push(link(pagination.last_page, 'last'));
  return parts.join(', ');
}

type Requirement = (labels: Readonly<Record<string, string>>) => boolean;

/** Splits on commas that are not inside `( … )`, since `k in (a,b)` contains commas of its own. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  terms.push(current);
  return terms.map((term) => term.trim());
}

function parseTerm(term: string): Requirement {
  let match = /^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/.exec(term);
  if (match) {
    const [, key = '', op, value = ''] = match;
    return op === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
  }
  match = /^([^\s=!(),]+)\s+(in|notin)\s+\(([^()]*)\)$/.exec(term);
  if (match) {
    const [, key = '', op, list = ''] = match;
    const values = new Set(list.split(',').map((value) => value.trim()));
    const listed = (labels: Readonly<Record<string, string>>): boolean => {
      const value = labels[key];
      return value !== undefined && values.has(value);
    };
    return op === 'in' ? listed : (labels) => !listed(labels);
  }
  match = /^(!?)([^\s=!(),]+)$/.exec(term);
  if (match) {
    const [, negate, key = ''] = match;
    return negate === '!' ? (labels) => !(key in labels) : (labels) => key in labels;
  }
  throw new ApiError(422, 'invalid_input', `invalid label_selector: ${JSON.stringify(term)}`, {
    fields: [{ name: 'label_selector', messages: ['is invalid'] }],
  });
}

/**
 * The documented label selector language: `k==v` / `k=v`, `k!=v`, `k`, `!k`, `k in (…)`,
 * `k notin (…)`, joined by commas (all must hold). Returns null when no selector was given.
 */
export function labelSelector(query: URLSearchParams): Requirement | null {
  const raw = query.get('label_selector');
  if (raw === null || raw.trim() === '') return null;
  const requirements = splitTerms(raw).map(parseTerm);
  return (labels) => requirements.every((requirement) => requirement(labels));
}
