/**
 * Reads servers.yaml into an Inventory. Every problem becomes one line
 * `servers.yaml: <key path>: <problem>` (or `servers.yaml:<line>:<col>: <problem>` for YAML
 * syntax), so the operator can find the spot without reading a stack or zod's JSON.
 *
 * Three passes, each needing the previous one to succeed: YAML syntax; the schema (plus duplicate
 * keys, which the YAML parser would otherwise silently resolve); then checks that look across
 * entries or at the disk (key files, two entries with one address).
 */
import { readlinkSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { type Document, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ExitCode, UserError } from '../domain/errors.js';
import { checkConfigFileSize } from './file-limits.js';
import type { Inventory, ServerEntry } from './inventory.js';
import { describeValue, serverEntrySchema, serversFileSchema, type ServersFile } from './servers-schema.js';

export interface ParseServersOptions {
  /** Path of the file; only its basename appears in messages. */
  file: string;
  /** Project folder that relative `ssh_key` paths are resolved against. */
  workingDir: string;
  fileExists: (abs: string) => boolean;
}

type KeyPath = (string | number)[];
interface Problem {
  path: KeyPath;
  message: string;
}

const EXAMPLE_HINT = 'see servers.example.yaml for every key';
/** Extra problems shown as hints; beyond this the operator fixes and re-runs. */
const MAX_EXTRA_PROBLEMS = 10;

export async function loadServersFile(workingDir: string): Promise<Inventory> {
  const dir = path.resolve(workingDir);
  const file = path.join(dir, 'servers.yaml');
  let text: string;
  try {
    checkConfigFileSize(file, (await stat(file)).size);
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? missingServersFile(file, dir) : `servers.yaml: cannot read ${file} (${code ?? 'unknown error'})`;
    throw new UserError(message, { hints: [EXAMPLE_HINT], exitCode: ExitCode.invalidInput, cause: error });
  }
  const fileExists = (abs: string): boolean => statSync(abs, { throwIfNoEntry: false })?.isFile() ?? false;
  return parseServersYaml(text, { file, workingDir: dir, fileExists });
}

/** ENOENT: either there is no file, or it is a symbolic link whose target is gone. */
function missingServersFile(file: string, dir: string): string {
  const target = danglingLinkTarget(file);
  return target === undefined ? `servers.yaml not found in ${dir}` : `servers.yaml: ${file} is a symbolic link to ${target}, which does not exist`;
}

/** The target of `file` when it is a symbolic link that points nowhere; otherwise undefined. */
export function danglingLinkTarget(file: string): string | undefined {
  try {
    const target = readlinkSync(file);
    return statSync(file, { throwIfNoEntry: false }) === undefined ? target : undefined;
  } catch {
    return undefined;
  }
}

export function parseServersYaml(text: string, opts: ParseServersOptions): Inventory {
  const label = path.basename(opts.file);
  const lineCounter = new LineCounter();
  // uniqueKeys off: duplicates are found below, where their key path is known.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, logLevel: 'error' });
  if (doc.errors.length > 0) {
    fail(
      label,
      doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return `${label}:${line}:${col}: ${firstLine(error.message)}`;
      }),
    );
  }
  if (doc.contents === null) {
    report(label, [{ path: ['servers'], message: 'missing: the file is empty; it needs a "servers:" mapping of node names to entries' }]);
  }
  if (!isMap(doc.contents)) {
    report(label, [{ path: [], message: `expected a mapping with a "servers" key, found ${describeValue(doc.toJS())}` }]);
  }

  const problems: Problem[] = [];
  normaliseKeys(doc.contents, [], problems, lineCounter);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    report(label, [{ path: [], message: firstLine(error instanceof Error ? error.message : String(error)) }]);
  }
  const parsed = serversFileSchema.safeParse(data, { error: fallbackMessage });
  if (!parsed.success) problems.push(...parsed.error.issues.flatMap(issueToProblems));
  if (problems.length > 0 || !parsed.success) report(label, sortByPosition(doc, problems));

  const servers = toEntries(parsed.data, namesInFileOrder(doc, Object.keys(parsed.data.servers)), opts, problems);
  if (problems.length > 0) report(label, problems);
  return { file: path.resolve(opts.file), servers };
}

/** Third pass: key files on disk and addresses shared between entries, then the plain entries. */
function toEntries(file: ServersFile, names: string[], opts: ParseServersOptions, problems: Problem[]): ServerEntry[] {
  const servers: ServerEntry[] = [];
  const byAddress = new Map<string, string>();
  for (const name of names) {
    const entry = file.servers[name];
    if (entry === undefined) continue;
    const sshKeyPath = path.resolve(opts.workingDir, entry.ssh_key);
    if (!opts.fileExists(sshKeyPath)) {
      const tilde = entry.ssh_key.startsWith('~') ? '; "~" is not expanded, write the full path' : '';
      problems.push({ path: ['servers', name, 'ssh_key'], message: `key file not found: ${sshKeyPath}${tilde}` });
    }
    if (entry.ip !== undefined) {
      const address = `${canonicalIp(entry.ip)} port ${entry.port}`;
      const first = byAddress.get(address);
      if (first === undefined) byAddress.set(address, name);
      else problems.push({ path: ['servers', name, 'ip'], message: `${entry.ip} port ${entry.port} is also used by ${formatPath(['servers', first])}` });
    }
    servers.push({
      name,
      ...(entry.ip === undefined ? {} : { ip: entry.ip }),
      ...(entry.provider === undefined ? {} : { provider: entry.provider }),
      sshKeyPath,
      sshKeyRef: entry.ssh_key,
      username: entry.username,
      port: entry.port,
      ...(entry.description === undefined ? {} : { description: entry.description }),
      ...(entry.tags === undefined ? {} : { tags: [...new Set(entry.tags)] }),
      ...(entry.role === undefined ? {} : { role: entry.role }),
      ...(entry.tier === undefined ? {} : { tier: entry.tier }),
      metadata: entry.metadata ?? {},
    });
  }
  return servers;
}

/** Throws the first line as the message; the rest become hints, each naming file and key path. */
function fail(label: string, lines: string[]): never {
  const extra = lines.slice(1, 1 + MAX_EXTRA_PROBLEMS);
  const more = lines.length - 1 - extra.length;
  const hints = [...extra, ...(more > 0 ? [`${label}: ${more} more problem(s) not shown`] : []), EXAMPLE_HINT];
  throw new UserError(lines[0] ?? `${label}: invalid`, { hints, exitCode: ExitCode.invalidInput });
}

function report(label: string, problems: Problem[]): never {
  return fail(label, problems.map((p) => `${label}: ${formatPath(p.path)}: ${p.message}`));
}

/** `servers.web1.ip`, or `servers["a;b"]` when a key is not a plain word. */
export function formatPath(keys: readonly (string | number)[]): string {
  if (keys.length === 0) return '(top level)';
  return keys
    .map((key, i) => {
      if (typeof key === 'number') return `[${key}]`;
      if (/^[A-Za-z0-9_-]+$/.test(key)) return i === 0 ? key : `.${key}`;
      return `[${JSON.stringify(key)}]`;
    })
    .join('');
}

/**
 * Makes every map key the text the operator wrote (so a server called `0123` is not renamed `123`
 * by YAML's number parsing) and reports keys that appear twice in one mapping.
 */
function normaliseKeys(node: unknown, at: KeyPath, problems: Problem[], lines: LineCounter): void {
  if (isSeq(node)) {
    node.items.forEach((item, i) => normaliseKeys(item, [...at, i], problems, lines));
    return;
  }
  if (!isMap(node)) return;
  const firstLineOf = new Map<string, number>();
  for (const pair of node.items) {
    const key = pair.key;
    if (!isScalar(key)) continue; // collection keys fail name/key validation later
    const name = typeof key.value === 'string' ? key.value : (key.source ?? String(key.value));
    key.value = name;
    const line = lines.linePos(key.range?.[0] ?? 0).line;
    const first = firstLineOf.get(name);
    if (first === undefined) firstLineOf.set(name, line);
    else {
      const what = at.length === 1 && at[0] === 'servers' ? 'duplicate server name' : 'duplicate key';
      problems.push({ path: [...at, name], message: `${what} (lines ${first} and ${line})` });
    }
    normaliseKeys(pair.value, [...at, name], problems, lines);
  }
}

/** Problem texts for issues whose schema defines no message of its own. */
function fallbackMessage(iss: z.core.$ZodRawIssue): string {
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined ? 'missing (required)' : `expected ${typeNoun(iss.expected)}, found ${describeValue(iss.input)}`;
    case 'invalid_key':
      return iss.issues[0]?.message ?? `${describeValue(iss.input)} is not allowed as a key here`;
    case 'unrecognized_keys':
      return 'unknown key';
    default:
      return `${describeValue(iss.input)} is not allowed here`;
  }
}

function typeNoun(expected: string): string {
  const nouns: Record<string, string> = { record: 'a mapping', object: 'a mapping', array: 'a list', string: 'text', number: 'a number', int: 'a whole number', boolean: 'true or false' };
  return nouns[expected] ?? expected;
}

/** One problem per unknown key, so each line names the key's own path. */
function issueToProblems(issue: z.core.$ZodIssue): Problem[] {
  const at = issue.path.map((key) => (typeof key === 'number' ? key : String(key)));
  if (issue.code !== 'unrecognized_keys') return [{ path: at, message: issue.message }];
  const allowed = Object.keys(at.length === 0 ? serversFileSchema.shape : serverEntrySchema.shape);
  return issue.keys.map((key) => ({ path: [...at, key], message: `unknown key; allowed keys: ${allowed.join(', ')}` }));
}

/** Problems in the order they appear in the file, so "the first problem" is the first one there. */
function sortByPosition(doc: Document, problems: Problem[]): Problem[] {
  const offset = (keys: KeyPath): number => {
    for (let n = keys.length; n > 0; n--) {
      const node: unknown = doc.getIn(keys.slice(0, n), true);
      if (isNode(node) && node.range) return node.range[0];
    }
    return 0;
  };
  return problems
    .map((problem) => ({ problem, at: offset(problem.path) }))
    .sort((a, b) => a.at - b.at)
    .map(({ problem }) => problem);
}

/** Keys of the `servers` mapping in file order (JS objects put integer-like keys first). */
function namesInFileOrder(doc: Document, names: string[]): string[] {
  const node: unknown = doc.get('servers', true);
  const ordered = isMap(node) ? node.items.flatMap((pair) => (isScalar(pair.key) ? [String(pair.key.value)] : [])) : [];
  const known = new Set(names);
  const fromFile = ordered.filter((name) => known.has(name));
  // An aliased `servers:` has no pairs here; fall back to object order rather than lose entries.
  return [...new Set([...fromFile, ...names])];
}

/** `2001:db8::1` and `2001:DB8:0::1` are one machine: compare IPv6 in canonical form. */
function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname;
  } catch {
    return ip.toLowerCase(); // zone ids (fe80::1%eth0) are not valid in URLs
  }
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).trim();
}
