import type { DistinguishedName, LeafUsage, PkiEngine, SubjectAltNames } from '../../ports/pki.js';
import type { Workspace } from '../../ports/workspace.js';
import { UserError } from '../../domain/errors.js';
import { SecretValue } from '../../domain/secret-value.js';
import type { CoreContext } from '../context.js';
import { obtainPassword } from '../credentials.js';
import { caLayout } from './ca-layout.js';
import type { CaSubjectFields } from './create-ca.js';
import { leafCertMode, leafDirMode, leafKeyBits, leafKeyMode, leafRenewalDays, leafValidityDays } from './leaf-layout.js';
import { indexLine, nextSerial, opensslSubject, parseSerialFile, supersedeEntries } from './openssl-db.js';
import { sanDifference } from './subject-alt-names.js';

/**
 * Issues end-entity certificates from the project's intermediate CA and keeps them current.
 *
 * Each certificate is planned first: kept when it exists, matches its key, was issued by the
 * current intermediate, has the wanted SANs and key usage and does not expire within
 * `leafRenewalDays`; issued (with a fresh key) otherwise. Planning reads files only; the
 * intermediate password is asked for, and the intermediate key opened, only when something must
 * be issued, and before the first write.
 *
 * Write order per certificate: `serial`, `newcerts/<serial>.pem`, `index.txt`, then the key, then
 * the certificate, each atomically. A run interrupted between key and certificate leaves a pair
 * that does not match; the next run sees that and issues again, and `nodeCertificateBundle`
 * refuses to hand out such a pair.
 */

const PUBLIC_CA_FILE = 0o444;
const DB_FILE = 0o644;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface LeafSpec {
  /** Who the certificate is for, in messages: a node name, or `operator`. */
  readonly owner: string;
  /** Which of the owner's certificates: `client`, `peer`, `operator`. */
  readonly kind: string;
  readonly keyPath: string;
  readonly certPath: string;
  readonly commonName: string;
  readonly sans: SubjectAltNames;
  readonly usage: LeafUsage;
}

export type LeafDecision =
  | { readonly action: 'keep'; readonly serialHex: string; readonly notAfter: Date }
  | {
      readonly action: 'issue';
      readonly reason: string;
      /** True when a certificate file is there and will be replaced. */
      readonly replaces: boolean;
      /** Serial of the certificate being replaced, when it could be read: superseded in index.txt. */
      readonly oldSerialHex?: string;
    };

export interface PlannedLeaf {
  readonly spec: LeafSpec;
  readonly decision: LeafDecision;
}

export interface LeafResult {
  readonly owner: string;
  readonly kind: string;
  /** `created`: there was none; `reissued`: replaced an existing one; `skipped`: kept as it was. */
  readonly status: 'created' | 'reissued' | 'skipped';
  /** Why it was issued, or why it was kept. */
  readonly reason: string;
  readonly keyPath: string;
  readonly certPath: string;
  readonly serialHex: string;
  readonly notAfter: Date;
}

export interface LeafDeps {
  readonly ctx: CoreContext;
  readonly workspace: Workspace;
  readonly pki: PkiEngine;
}

export interface LeafOptions {
  /** C, ST, O and e-mail for the subjects; by default the intermediate CA's own. */
  readonly subject?: CaSubjectFields;
  /** The intermediate CA password, when the caller has it; else INTERMEDIATE_CA_PASS or a prompt. */
  readonly intermediatePass?: SecretValue;
}

export interface PreparedLeaves {
  readonly plan: readonly PlannedLeaf[];
  /** True when apply() will write anything. */
  readonly changes: boolean;
  apply(): Promise<LeafResult[]>;
}

const EKU: Record<LeafUsage, readonly string[]> = {
  'server-client': ['serverAuth', 'clientAuth'],
  peer: ['serverAuth', 'clientAuth'],
  client: ['clientAuth'],
};

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

async function readOptional(ws: Workspace, rel: string): Promise<Buffer | undefined> {
  return (await ws.stat(rel)) === undefined ? undefined : ws.readFile(rel);
}

/** The CA files a leaf needs; a missing one means `init` has not made the CA. */
export async function readCaCertificates(ws: Workspace, pki: PkiEngine): Promise<{ rootPem: string; intermediatePem: string }> {
  for (const rel of [caLayout.root.cert, caLayout.intermediate.cert]) {
    if ((await ws.stat(rel)) === undefined) {
      throw new UserError(`${rel} is missing: this project has no complete certificate authority`, {
        hints: ['run `nix-infra init` (without --no-cert-auth) to create it'],
      });
    }
  }
  const rootPem = (await ws.readFile(caLayout.root.cert)).toString('utf8');
  const intermediatePem = (await ws.readFile(caLayout.intermediate.cert)).toString('utf8');
  for (const [rel, pem] of [[caLayout.root.cert, rootPem], [caLayout.intermediate.cert, intermediatePem]] as const) {
    const problem = pki.nameEncodingProblem(pem);
    if (problem !== undefined) {
      throw new UserError(`${rel}: etcd would reject certificates from this CA: ${problem}`, {
        hints: [
          'this CA was made by an early nix-infra build; move ca/ aside and run `nix-infra init` to create a new one',
          'then issue and deploy every node certificate again',
        ],
      });
    }
  }
  return { rootPem, intermediatePem };
}

/** Whether an existing certificate can stay, and if not, why. Reads nothing; pure over its inputs. */
export function decideLeaf(
  pki: PkiEngine,
  spec: LeafSpec,
  existing: { readonly certPem: string | undefined; readonly key: SecretValue | undefined },
  intermediatePem: string,
  now: Date,
): LeafDecision {
  const { certPem, key } = existing;
  if (certPem === undefined) {
    return { action: 'issue', replaces: false, reason: key === undefined ? 'new' : 'key without certificate' };
  }
  let summary;
  try {
    summary = pki.inspectLeaf(certPem);
  } catch {
    return { action: 'issue', replaces: true, reason: 'certificate unreadable' };
  }
  const replace = (reason: string): LeafDecision => ({ action: 'issue', replaces: true, reason, oldSerialHex: summary.serialHex });
  if (key === undefined) return replace('certificate without key');
  if (!pki.isIssuedBy(certPem, intermediatePem)) return replace('not issued by the current intermediate CA');
  if (!pki.keyMatchesCertificate(key, certPem)) return replace('key does not match the certificate');
  const wantEku = EKU[spec.usage];
  const haveEku = summary.extendedKeyUsage;
  if (summary.isCa || wantEku.length !== haveEku.length || wantEku.some((usage) => !haveEku.includes(usage))) {
    return replace(`key usage is ${haveEku.join('+') || 'unrestricted'}, want ${wantEku.join('+')}`);
  }
  const diff = sanDifference(summary.sans, spec.sans);
  if (diff.added.length > 0 || diff.removed.length > 0) {
    const parts = [
      ...(diff.added.length > 0 ? [`add ${diff.added.join(', ')}`] : []),
      ...(diff.removed.length > 0 ? [`drop ${diff.removed.join(', ')}`] : []),
    ];
    return replace(`addresses changed: ${parts.join('; ')}`);
  }
  if (summary.notAfter.getTime() <= now.getTime()) return replace(`expired on ${day(summary.notAfter)}`);
  if (summary.notAfter.getTime() - now.getTime() < leafRenewalDays * DAY_MS) {
    return replace(`expires on ${day(summary.notAfter)}, within ${leafRenewalDays} days`);
  }
  return { action: 'keep', serialHex: summary.serialHex, notAfter: summary.notAfter };
}

function subjectFor(fields: CaSubjectFields, commonName: string): DistinguishedName {
  return { country: fields.country, state: fields.state, organization: fields.organization, email: fields.email, commonName };
}

/** Plans every spec, gathers the password only if needed, and returns the step that writes. */
export async function prepareLeafCertificates(
  deps: LeafDeps,
  specs: readonly LeafSpec[],
  options: LeafOptions = {},
): Promise<PreparedLeaves> {
  const { ctx, workspace: ws, pki } = deps;
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.certPath)) throw new UserError(`${spec.owner} is listed twice`);
    seen.add(spec.certPath);
  }
  const { rootPem, intermediatePem } = await readCaCertificates(ws, pki);
  const now = ctx.now();

  const plan: PlannedLeaf[] = [];
  for (const spec of specs) {
    const certPem = (await readOptional(ws, spec.certPath))?.toString('utf8');
    const keyBytes = await readOptional(ws, spec.keyPath);
    const key = keyBytes === undefined ? undefined : new SecretValue(spec.keyPath, keyBytes);
    plan.push({ spec, decision: decideLeaf(pki, spec, { certPem, key }, intermediatePem, now) });
  }
  const toIssue = plan.filter((p) => p.decision.action === 'issue');

  let issuer: { key: SecretValue; subject: CaSubjectFields } | undefined;
  if (toIssue.length > 0) {
    if ((await ws.stat(caLayout.intermediate.key)) === undefined) {
      throw new UserError(`${caLayout.intermediate.key} is missing, so no certificate can be issued`, {
        hints: ['restore it from a backup; without it, every node certificate must come from a new CA'],
      });
    }
    const pass =
      options.intermediatePass ?? (await obtainPassword(ctx, { envKeys: ['INTERMEDIATE_CA_PASS'], label: 'CA intermediate password' }));
    // Opened now, so that a wrong password fails before anything is written.
    const key = pki.decryptKey((await ws.readFile(caLayout.intermediate.key)).toString('utf8'), pass, caLayout.intermediate.key);
    const { commonName: _unused, ...fromCa } = pki.describe(intermediatePem).subject;
    issuer = { key, subject: options.subject ?? fromCa };
  }

  const apply = async (): Promise<LeafResult[]> => {
    const results: LeafResult[] = [];
    if (issuer !== undefined) await ensureLayout(deps, rootPem, intermediatePem, toIssue);
    for (const { spec, decision } of plan) {
      if (decision.action === 'keep') {
        const reason = `up to date, valid until ${day(decision.notAfter)}`;
        ctx.reporter.emit({ kind: 'skipped', path: spec.certPath, reason });
        results.push({ ...base(spec), status: 'skipped', reason, serialHex: decision.serialHex, notAfter: decision.notAfter });
      } else if (issuer !== undefined) {
        results.push(await issueLeaf(deps, spec, decision, issuer, intermediatePem));
      }
    }
    return results;
  };
  return { plan, changes: toIssue.length > 0, apply };
}

function base(spec: LeafSpec): Pick<LeafResult, 'owner' | 'kind' | 'keyPath' | 'certPath'> {
  return { owner: spec.owner, kind: spec.kind, keyPath: spec.keyPath, certPath: spec.certPath };
}

function parentDir(rel: string): string {
  return rel.slice(0, Math.max(0, rel.lastIndexOf('/')));
}

/** Folders for the new files, and the chain file that upstream's generateCerts also wrote. */
async function ensureLayout(deps: LeafDeps, rootPem: string, intermediatePem: string, toIssue: readonly PlannedLeaf[]): Promise<void> {
  const ws = deps.workspace;
  const dirs = new Set([caLayout.intermediate.newcerts, ...toIssue.flatMap((p) => [parentDir(p.spec.keyPath), parentDir(p.spec.certPath)])]);
  for (const dir of dirs) await ws.ensureDir(dir, leafDirMode);
  const chain = `${rootPem.trimEnd()}\n${intermediatePem.trimEnd()}\n`;
  if (await ws.writeFile(caLayout.intermediate.chain, chain, { mode: PUBLIC_CA_FILE, exclusive: true })) {
    deps.ctx.reporter.emit({ kind: 'created', path: caLayout.intermediate.chain, what: 'CA chain' });
  }
}

async function issueLeaf(
  deps: LeafDeps,
  spec: LeafSpec,
  decision: Extract<LeafDecision, { action: 'issue' }>,
  issuer: { key: SecretValue; subject: CaSubjectFields },
  intermediatePem: string,
): Promise<LeafResult> {
  const { ctx, workspace: ws, pki } = deps;
  ctx.reporter.emit({ kind: 'step', message: `${spec.owner}: issuing ${spec.kind} certificate (${decision.reason})` });
  const subject = subjectFor(issuer.subject, spec.commonName);
  const key = await pki.generateRsaKey(leafKeyBits);
  // The serial as the file holds it (even-length uppercase hex), which is how openssl names
  // newcerts/ files and index.txt serials.
  const serialHex = parseSerialFile((await ws.readFile(caLayout.intermediate.serial)).toString('utf8'));
  const cert = pki.signLeaf({
    issuerKey: issuer.key,
    issuerCertPem: intermediatePem,
    subjectKey: key,
    subject,
    serialHex,
    days: leafValidityDays,
    sans: spec.sans,
    usage: spec.usage,
  });

  // openssl's database first: a serial is never handed out twice, even if we stop half-way.
  await ws.writeFile(caLayout.intermediate.serial, `${nextSerial(serialHex)}\n`, { mode: DB_FILE });
  await ws.writeFile(`${caLayout.intermediate.newcerts}/${serialHex}.pem`, cert.pem, { mode: DB_FILE });
  const index = (await readOptional(ws, caLayout.intermediate.index))?.toString('utf8') ?? '';
  const subjectLine = opensslSubject(subject);
  const { text } = supersedeEntries(
    index,
    { serials: decision.oldSerialHex === undefined ? [] : [decision.oldSerialHex], subject: subjectLine },
    ctx.now(),
  );
  const separator = text === '' || text.endsWith('\n') ? '' : '\n';
  await ws.writeFile(caLayout.intermediate.index, `${text}${separator}${indexLine({ notAfter: cert.notAfter, serialHex, subject })}`, {
    mode: DB_FILE,
  });

  await ws.writeFile(spec.keyPath, key.reveal(), { mode: leafKeyMode });
  ctx.reporter.emit({ kind: 'created', path: spec.keyPath, what: `${spec.kind} TLS key for ${spec.owner}` });
  await ws.writeFile(spec.certPath, cert.pem, { mode: leafCertMode });
  ctx.reporter.emit({
    kind: 'created',
    path: spec.certPath,
    what: `${spec.kind} TLS certificate for ${spec.owner}, serial ${serialHex}, valid until ${day(cert.notAfter)}`,
  });
  return {
    ...base(spec),
    status: decision.replaces ? 'reissued' : 'created',
    reason: decision.reason,
    serialHex,
    notAfter: cert.notAfter,
  };
}
