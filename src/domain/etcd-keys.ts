import { UserError } from './errors.js';

/**
 * Key rules for the control plane. etcd itself accepts any bytes as a key; these rules keep what
 * an operator types (and what nix-infra builds) inside the slash-separated layout every user of
 * the store follows (`/cluster/...`, `/coreos.com/network/...`):
 *
 * - a key starts with `/` and is at most 4096 bytes of well-formed UTF-8;
 * - no control characters (NUL included): they would be printed raw to a terminal, and NUL has a
 *   special meaning in etcd range ends;
 * - no empty segment (`//`, or a trailing `/`): `/cluster/nodes/` is a prefix, not a key;
 * - no `.` or `..` segment: the layout is not a file system, and such keys only come from a
 *   mistake (or from a path built from untrusted input).
 *
 * A prefix follows the same rules, except that it may end with `/` (and so its last segment may
 * be empty). Deleting by prefix is stricter still: the prefix must end with `/` and name at least
 * one whole segment, so `/c` cannot delete both `/cluster/...` and `/coreos.com/...`.
 */

const MAX_KEY_BYTES = 4096;
const CONTROL = /[\u0000-\u001f\u007f]/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function textProblem(value: string): string | undefined {
  if (CONTROL.test(value)) return 'contains a control character (NUL, newline, ...)';
  if (LONE_SURROGATE.test(value)) return 'is not valid UTF-8 text';
  return undefined;
}

function problem(key: string, allowTrailingSlash: boolean): string | undefined {
  if (key.length === 0) return 'is empty';
  if (!key.startsWith('/')) return 'must start with "/"';
  const text = textProblem(key);
  if (text !== undefined) return text;
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `is longer than ${MAX_KEY_BYTES} bytes`;
  if (key === '/') return allowTrailingSlash ? undefined : 'names no key ("/" is the root)';
  const segments = key.slice(1).split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    const last = i === segments.length - 1;
    if (segment === '') {
      if (last && allowTrailingSlash) continue;
      return last ? 'ends with "/" (that is a prefix, not a key)' : 'contains an empty segment ("//")';
    }
    if (segment === '.' || segment === '..') return `contains a "${segment}" segment`;
  }
  return undefined;
}

function fail(what: string, key: string, reason: string, hints: readonly string[] = []): never {
  throw new UserError(`${what} ${JSON.stringify(key)} ${reason}`, {
    hints: hints.length > 0 ? hints : ['keys look like /cluster/nodes/worker001: "/"-separated, no empty, "." or ".." segments'],
  });
}

/** Returns `key` when it is a valid control-plane key; otherwise throws a UserError. */
export function checkKey(key: string): string {
  const reason = problem(key, false);
  if (reason !== undefined) {
    fail('etcd key', key, reason, reason.startsWith('ends with "/"') ? ['to read every key under it, ask for the prefix instead'] : []);
  }
  return key;
}

/** Returns `prefix` when it is a valid prefix to read (`/` reads everything). */
export function checkPrefix(prefix: string): string {
  const reason = problem(prefix, true);
  if (reason !== undefined) fail('etcd prefix', prefix, reason);
  return prefix;
}

/** Returns `prefix` when it may be deleted: valid, ends with `/`, names at least one segment. */
export function checkDeletePrefix(prefix: string): string {
  checkPrefix(prefix);
  if (!/^\/[^/]+\/(?:.*\/)?$/.test(prefix)) {
    fail('etcd prefix', prefix, 'cannot be deleted: a prefix to delete must end with "/" and name at least one segment', [
      'for example /cluster/services/ deletes every key under /cluster/services',
    ]);
  }
  return prefix;
}

/** One path segment built from a name (node, group, app): no "/", not empty, not "." or "..". */
export function checkSegment(what: string, value: string): string {
  if (value.length === 0 || value.includes('/') || value === '.' || value === '..' || textProblem(value) !== undefined) {
    throw new UserError(`${what} ${JSON.stringify(value)} cannot be part of an etcd key (empty, "/", "." or "..", or control characters)`);
  }
  return value;
}
