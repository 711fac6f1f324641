import { isIPv4 } from 'node:net';
import { UserError } from '../../domain/errors.js';
import { isHostnameLabel, secretNameProblem } from '../../domain/names.js';
import { SecretValue } from '../../domain/secret-value.js';
import { lineAt, placeholderPattern } from '../placeholders.js';

/**
 * The placeholder engine of deploys: every `[%%key%%]` form upstream knows, with the set of forms
 * each kind of text may use. Unlike upstream, nothing is ever left in place: a placeholder that
 * cannot be resolved (unknown key, unknown node, missing overlay IP, a form this file does not
 * get, a bad secret name) is an error naming the file (or secret) and the line. All problems of
 * one text are reported together.
 *
 * One kind of problem may be let through on request (`forwardReferences: 'warn'`): a well-formed
 * reference to a node or overlay IP that does not exist *yet* (upstream's create flow names
 * registry001 before it is provisioned, and a node's own overlay IP before flannel leased it).
 * It becomes a warning naming file and line, and renders as unresolvedMarker: a host name under
 * the reserved `.invalid` domain that can never resolve, so whatever uses it fails at once with
 * the placeholder in its error, instead of quietly dialling a wrong address.
 */

export type DeployMode = 'fleet' | 'cluster';

/** A server's addresses as placeholders see them. */
export interface NodeAddresses {
  /** Public IPv4 (`[%%<node>.ipv4%%]`). */
  readonly ipv4?: string | undefined;
  /** Flannel subnet base address (`[%%<node>.overlayIp%%]`, cluster mode only). */
  readonly overlayIp?: string | undefined;
}

/** Every server of the project by name. */
export type NodeMap = ReadonlyMap<string, NodeAddresses>;

/** The node being deployed (`[%%localhost.*%%]`). */
export interface LocalhostAddresses {
  readonly name: string;
  readonly ipv4: string;
  readonly overlayIp?: string | undefined;
}

/**
 * What kind of text is substituted; this decides the forms it may use:
 *
 * | context                  | forms                                                                 |
 * |--------------------------|-----------------------------------------------------------------------|
 * | configuration.nix        | nodeName, nixVersion, sshKey, hwArch                                  |
 * | flake.nix                | nodeName, nixVersion, sshKey, hwArch                                  |
 * | node-type                | the above; cluster mode also etcdCluster                              |
 * | control-node-type        | the above, etcdCluster, etcdClusterToken                              |
 * | node-file                | <node>.ipv4, <node>.overlayIp (cluster), localhost.*, secrets/<name>, |
 * |                          | pre-build-secrets/<name>, nix-store.trusted-public-keys               |
 * | secret-value             | <node>.ipv4, <node>.overlayIp (cluster)                               |
 * | pre-build-secret-value   | <node>.ipv4, <node>.overlayIp (cluster), localhost.*                  |
 */
export type PlaceholderContext =
  | 'configuration.nix'
  | 'flake.nix'
  | 'node-type'
  | 'control-node-type'
  | 'node-file'
  | 'secret-value'
  | 'pre-build-secret-value';

/** The values placeholders resolve to. Only what the context uses needs to be there. */
export interface PlaceholderValues {
  readonly mode: DeployMode;
  readonly nodeName?: string;
  readonly nixVersion?: string;
  readonly sshKey?: string;
  /** Nix system, e.g. x86_64-linux. */
  readonly hwArch?: string;
  /** The control nodes as Nix attrsets (see etcdClusterText). */
  readonly etcdCluster?: string;
  readonly etcdClusterToken?: string;
  readonly nodes?: NodeMap;
  readonly localhost?: LocalhostAddresses;
  /** Keys for `[%%nix-store.trusted-public-keys%%]`, each `<name>:<base64>`. */
  readonly trustedPublicKeys?: readonly string[];
  /** A node or overlay IP that does not exist yet: an error (default) or a warning and a marker. */
  readonly forwardReferences?: 'error' | 'warn';
}

export interface Substituted<T> {
  readonly content: T;
  /** Names from `[%%secrets/<name>%%]` and `[%%pre-build-secrets/<name>%%]`: unique, sorted. */
  readonly secrets: string[];
  /** Names from `[%%pre-build-secrets/<name>%%]` only: unique, sorted. */
  readonly preBuildSecrets: string[];
  /** Forward references let through (`<file>:<line>: ...`), in text order. */
  readonly warnings: string[];
}

/**
 * What a not-yet-known `[%%<node>.<attr>%%]` renders to: `registry001.overlayIp.nix-infra-unresolved.invalid`.
 * Valid inside a Nix string and as a host name, so the build goes through, but `.invalid` never
 * resolves (RFC 6761): podman, curl, HAProxy and the like fail on it, naming it.
 */
export function unresolvedMarker(node: string, attr: 'ipv4' | 'overlayIp'): string {
  return `${node}.${attr}.nix-infra-unresolved.invalid`;
}

const SYSTEM_KEYS = ['nodeName', 'nixVersion', 'sshKey', 'hwArch'] as const;
const TRUSTED_KEYS = 'nix-store.trusted-public-keys';
const FIXED_KEYS = [...SYSTEM_KEYS, 'etcdCluster', 'etcdClusterToken', TRUSTED_KEYS] as const;
type FixedKey = (typeof FIXED_KEYS)[number];

/** Where each form is filled in, for "not available here" messages. */
const FILLED_IN: Record<FixedKey | 'node' | 'localhost' | 'secret', string> = {
  nodeName: 'configuration.nix, flake.nix and node types',
  nixVersion: 'configuration.nix, flake.nix and node types',
  sshKey: 'configuration.nix, flake.nix and node types',
  hwArch: 'configuration.nix, flake.nix and node types',
  etcdCluster: 'node types of a cluster',
  etcdClusterToken: 'the control node type',
  [TRUSTED_KEYS]: 'nodes/<node>.nix',
  node: 'nodes/<node>.nix and secret values',
  localhost: 'nodes/<node>.nix and pre-build secret values',
  secret: 'nodes/<node>.nix',
};

interface Rules {
  readonly fixed: readonly FixedKey[];
  readonly nodes: boolean;
  readonly localhost: boolean;
  readonly secrets: boolean;
}

function rulesFor(context: PlaceholderContext, mode: DeployMode): Rules {
  const none = { fixed: [], nodes: false, localhost: false, secrets: false };
  switch (context) {
    case 'configuration.nix':
    case 'flake.nix':
      return { ...none, fixed: SYSTEM_KEYS };
    case 'node-type':
      // Upstream uploads a fleet node type verbatim, so it has no etcd keys there.
      return { ...none, fixed: mode === 'cluster' ? [...SYSTEM_KEYS, 'etcdCluster'] : SYSTEM_KEYS };
    case 'control-node-type':
      return { ...none, fixed: [...SYSTEM_KEYS, 'etcdCluster', 'etcdClusterToken'] };
    case 'node-file':
      return { fixed: [TRUSTED_KEYS], nodes: true, localhost: true, secrets: true };
    case 'secret-value':
      return { ...none, nodes: true };
    case 'pre-build-secret-value':
      return { ...none, nodes: true, localhost: true };
  }
}

/** The forms a context accepts, for hints. */
export function allowedForms(context: PlaceholderContext, mode: DeployMode): string[] {
  const rules = rulesFor(context, mode);
  const forms = rules.fixed.map((k) => `[%%${k}%%]`);
  if (rules.nodes) forms.push('[%%<node>.ipv4%%]', ...(mode === 'cluster' ? ['[%%<node>.overlayIp%%]'] : []));
  if (rules.localhost) forms.push('[%%localhost.hostname%%]', '[%%localhost.ipv4%%]', ...(mode === 'cluster' ? ['[%%localhost.overlayIp%%]'] : []));
  if (rules.secrets) forms.push('[%%secrets/<name>%%]', '[%%pre-build-secrets/<name>%%]');
  return forms;
}

type Classified =
  | { readonly type: 'fixed'; readonly key: FixedKey }
  | { readonly type: 'node'; readonly node: string; readonly attr: 'ipv4' | 'overlayIp' }
  | { readonly type: 'localhost'; readonly attr: 'hostname' | 'ipv4' | 'overlayIp' }
  | { readonly type: 'secret'; readonly name: string; readonly preBuild: boolean }
  | { readonly type: 'unknown' };

function classify(key: string): Classified {
  if ((FIXED_KEYS as readonly string[]).includes(key)) return { type: 'fixed', key: key as FixedKey };
  if (key.startsWith('pre-build-secrets/')) return { type: 'secret', name: key.slice('pre-build-secrets/'.length), preBuild: true };
  if (key.startsWith('secrets/')) return { type: 'secret', name: key.slice('secrets/'.length), preBuild: false };
  const localhost = /^localhost\.(hostname|ipv4|overlayIp)$/.exec(key);
  if (localhost?.[1] !== undefined) return { type: 'localhost', attr: localhost[1] as 'hostname' | 'ipv4' | 'overlayIp' };
  const node = /^(.+)\.(ipv4|overlayIp)$/.exec(key);
  if (node?.[1] !== undefined && node[2] !== undefined && node[1] !== 'localhost') {
    return { type: 'node', node: node[1], attr: node[2] as 'ipv4' | 'overlayIp' };
  }
  return { type: 'unknown' };
}

/**
 * The secret names `[%%secrets/<name>%%]` and `[%%pre-build-secrets/<name>%%]` in a text, unique
 * and sorted, without rendering anything: what a deploy will need, known before any host is reached.
 */
export function referencedSecrets(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(placeholderPattern())) {
    const cls = classify(match[1] ?? '');
    if (cls.type === 'secret') names.add(cls.name);
  }
  return [...names].sort();
}

/** Why a trusted public key cannot go into a Nix string list, or undefined. Never quotes the key. */
function trustedKeyProblem(key: string, index: number): string | undefined {
  if (!/^[A-Za-z0-9._+@-]+:[A-Za-z0-9+/]+={0,2}$/.test(key.trim())) {
    return `trusted public key #${index + 1} is not of the form <name>:<base64> (value not shown)`;
  }
  return undefined;
}

/**
 * `[ "k1" "k2" ]`, the Nix list `[%%nix-store.trusted-public-keys%%]` becomes (`[ ]` when empty;
 * upstream wrote `[  ]`). Keys are trimmed (stored secrets usually end in a newline).
 */
export function renderTrustedPublicKeys(keys: readonly string[]): string {
  keys.forEach((key, index) => {
    const problem = trustedKeyProblem(key, index);
    if (problem !== undefined) throw new UserError(problem);
  });
  return keys.length === 0 ? '[ ]' : `[ ${keys.map((k) => `"${k.trim()}"`).join(' ')} ]`;
}

type Resolution =
  | { readonly value: string; readonly secret?: { name: string; preBuild: boolean } }
  | { readonly problem: string; readonly hint?: string; readonly notYet?: string };

const DEPLOY_AGAIN = 'deploy again once it exists (re-running resolves it)';

function notAvailable(shown: string, where: string, form: keyof typeof FILLED_IN, hint?: string): Resolution {
  return { problem: `${shown} is not filled in ${where} (only in ${FILLED_IN[form]})`, ...(hint === undefined ? {} : { hint }) };
}

function ipProblem(shown: string, what: string, ip: string): Resolution | undefined {
  return isIPv4(ip) ? undefined : { problem: `${shown}: the ${what} ${JSON.stringify(ip)} is not an IPv4 address` };
}

function resolveKey(cls: Classified, shown: string, context: PlaceholderContext, values: PlaceholderValues, whereLabel: string): Resolution {
  const rules = rulesFor(context, values.mode);
  switch (cls.type) {
    case 'unknown':
      return { problem: `unknown placeholder ${shown}` };
    case 'fixed': {
      if (!rules.fixed.includes(cls.key)) {
        const hint = cls.key === 'nodeName' && context === 'node-file' ? 'use [%%localhost.hostname%%] for the node\'s own name' : undefined;
        return notAvailable(shown, whereLabel, cls.key, hint);
      }
      if (cls.key === TRUSTED_KEYS) {
        const keys = values.trustedPublicKeys ?? [];
        const problem = keys.map((k, i) => trustedKeyProblem(k, i)).find((p) => p !== undefined);
        return problem === undefined ? { value: renderTrustedPublicKeys(keys) } : { problem: `${shown}: ${problem}` };
      }
      const value = values[cls.key];
      return value === undefined ? { problem: `${shown} has no value in this deploy` } : { value };
    }
    case 'node': {
      if (!rules.nodes) return notAvailable(shown, whereLabel, 'node');
      if (cls.attr === 'overlayIp' && values.mode === 'fleet') return { problem: `${shown}: overlay IPs exist only in cluster mode` };
      const entry = values.nodes?.get(cls.node);
      if (entry === undefined) {
        const problem = `${shown}: no server named ${JSON.stringify(cls.node)}`;
        return isHostnameLabel(cls.node) ? { problem, notYet: unresolvedMarker(cls.node, cls.attr), hint: `a node that is not created yet: ${DEPLOY_AGAIN}` } : { problem };
      }
      const ip = entry[cls.attr];
      if (ip === undefined) {
        return cls.attr === 'ipv4'
          ? { problem: `${shown}: server ${cls.node} has no public IPv4 address` }
          : {
              problem: `${shown}: no overlay IP known for ${cls.node}`,
              notYet: unresolvedMarker(cls.node, 'overlayIp'),
              hint: 'an overlay IP exists once flannel on that node has leased its subnet; deploy again when the node is up',
            };
      }
      return ipProblem(shown, cls.attr === 'ipv4' ? `address of ${cls.node}` : `overlay IP of ${cls.node}`, ip) ?? { value: ip };
    }
    case 'localhost': {
      if (!rules.localhost) {
        const hint =
          context === 'secret-value'
            ? 'a secret\'s value is the same on every node that uses it, so it cannot name "this node"; use [%%<node>.ipv4%%] or [%%<node>.overlayIp%%]'
            : undefined;
        return notAvailable(shown, whereLabel, 'localhost', hint);
      }
      const self = values.localhost;
      if (self === undefined) return { problem: `${shown} has no value in this deploy` };
      if (cls.attr === 'hostname') return { value: self.name };
      if (cls.attr === 'ipv4') return ipProblem(shown, `address of ${self.name}`, self.ipv4) ?? { value: self.ipv4 };
      if (values.mode === 'fleet') return { problem: `${shown}: overlay IPs exist only in cluster mode` };
      if (self.overlayIp === undefined) {
        // Upstream substituted the text `-- overlayIp not found in etcd --` here.
        return {
          problem: `${shown}: no overlay IP known for ${self.name}`,
          notYet: unresolvedMarker(self.name, 'overlayIp'),
          hint: 'an overlay IP exists once flannel on the node has leased its subnet; deploy again when the node is up',
        };
      }
      return ipProblem(shown, `overlay IP of ${self.name}`, self.overlayIp) ?? { value: self.overlayIp };
    }
    case 'secret': {
      if (!rules.secrets) return notAvailable(shown, whereLabel, 'secret');
      // Upstream took the last `/`-segment; a name with a path in it is refused instead.
      const problem = cls.name.includes('/') ? 'a secret name may not contain "/"' : secretNameProblem(cls.name);
      if (problem !== undefined) return { problem: `${shown}: ${problem}` };
      return { value: cls.name, secret: { name: cls.name, preBuild: cls.preBuild } };
    }
  }
}

interface Where {
  /** Printed before `:<line>`, e.g. nodes/web1.nix or secrets/db.url. */
  readonly label: string;
  /** Inside a secret value: placeholders that are not a known form are not echoed. */
  readonly redact: boolean;
  readonly hints?: readonly string[];
}

/** What is printed for a placeholder: itself, unless it may be a piece of a secret. */
function shownAs(match: string, key: string, cls: Classified, redact: boolean): string {
  if (!redact) return match;
  return cls.type !== 'unknown' && /^[A-Za-z0-9._/-]{1,200}$/.test(key) ? match : 'a placeholder (not shown: it is part of a secret value)';
}

const MAX_LISTED = 10;

function substituteText(
  text: string,
  context: PlaceholderContext,
  values: PlaceholderValues,
  where: Where,
  encodeValue: (value: string) => string,
): Substituted<string> {
  const secrets = new Set<string>();
  const preBuild = new Set<string>();
  const problems: string[] = [];
  const warnings: string[] = [];
  const hints = new Set<string>();
  const whereLabel = where.redact ? 'secret values' : where.label;
  const content = text.replace(placeholderPattern(), (match: string, key: string, offset: number) => {
    const cls = classify(key);
    const result = resolveKey(cls, shownAs(match, key, cls, where.redact), context, values, whereLabel);
    if ('value' in result) {
      if (result.secret !== undefined) {
        secrets.add(result.secret.name);
        if (result.secret.preBuild) preBuild.add(result.secret.name);
      }
      return encodeValue(result.value);
    }
    if (result.notYet !== undefined && values.forwardReferences === 'warn') {
      warnings.push(`${where.label}:${lineAt(text, offset)}: ${result.problem} yet; rendered as ${result.notYet} (${DEPLOY_AGAIN}; --strict makes this an error)`);
      return encodeValue(result.notYet);
    }
    problems.push(`${where.label}:${lineAt(text, offset)}: ${result.problem}`);
    if (result.hint !== undefined) hints.add(result.hint);
    return match;
  });
  const [first, ...more] = problems;
  if (first !== undefined) {
    const forms = allowedForms(context, values.mode);
    throw new UserError(more.length === 0 ? first : `${first} (and ${more.length} more)`, {
      hints: [
        ...more.slice(0, MAX_LISTED),
        ...(more.length > MAX_LISTED ? [`... ${more.length - MAX_LISTED} more`] : []),
        ...hints,
        forms.length === 0 ? `no placeholders are filled in ${whereLabel}` : `filled in here: ${forms.join(', ')}`,
        ...(where.hints ?? []),
      ],
    });
  }
  return { content, secrets: [...secrets].sort(), preBuildSecrets: [...preBuild].sort(), warnings };
}

/** Substitutes a text (no byte-level concerns); `source` names it in errors (a file path). */
export function substituteDeployText(text: string, context: PlaceholderContext, values: PlaceholderValues, source: string): Substituted<string> {
  return substituteText(text, context, values, { label: source, redact: context === 'secret-value' || context === 'pre-build-secret-value' }, (v) => v);
}

/**
 * Substitutes file contents byte for byte: everything outside a placeholder is kept exactly, even
 * if it is not valid UTF-8 (the text is handled as latin1, values are encoded as UTF-8).
 */
export function substituteDeployFile(bytes: Buffer, context: PlaceholderContext, values: PlaceholderValues, source: string): Substituted<Buffer> {
  if (!bytes.includes('[%%')) return { content: bytes, secrets: [], preBuildSecrets: [], warnings: [] };
  const toLatin1 = (value: string): string => Buffer.from(value, 'utf8').toString('latin1');
  const redact = context === 'secret-value' || context === 'pre-build-secret-value';
  const result = substituteText(bytes.toString('latin1'), context, values, { label: source, redact }, toLatin1);
  return { ...result, content: Buffer.from(result.content, 'latin1') };
}

/**
 * A secret's value with its placeholders resolved before it goes to a node. A regular secret
 * gets the cluster map (`<node>.ipv4`, `<node>.overlayIp`), a pre-build secret also `localhost.*`
 * (upstream §5/§9.3-9.4). The value never appears in an error; a placeholder does only when it
 * has the shape of a known form.
 */
export function substituteSecretValue(secret: SecretValue, kind: 'secret' | 'pre-build', values: PlaceholderValues, onWarning: (warning: string) => void = () => undefined): SecretValue {
  const bytes = secret.reveal();
  if (!bytes.includes('[%%')) return secret;
  const context: PlaceholderContext = kind === 'secret' ? 'secret-value' : 'pre-build-secret-value';
  const result = substituteText(
    bytes.toString('latin1'),
    context,
    values,
    { label: `secrets/${secret.name}`, redact: true, hints: [`the line is in the decrypted value; store a corrected value with: nix-infra secrets store --name ${secret.name}`] },
    (v) => Buffer.from(v, 'utf8').toString('latin1'),
  );
  result.warnings.forEach(onWarning);
  return new SecretValue(secret.name, Buffer.from(result.content, 'latin1'));
}
