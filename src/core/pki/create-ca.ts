import type { PkiEngine, DistinguishedName } from '../../ports/pki.js';
import type { Workspace } from '../../ports/workspace.js';
import { envValue } from '../../config/env.js';
import { UserError } from '../../domain/errors.js';
import type { SecretValue } from '../../domain/secret-value.js';
import type { CoreContext } from '../context.js';
import { obtainPassword, obtainText } from '../credentials.js';
import { caKeyBits, caLayout, caValidityDays, firstSerial } from './ca-layout.js';
import { opensslConfig } from './openssl-config.js';
import { indexLine, nextSerial, parseSerialFile } from './openssl-db.js';

const PRIVATE = 0o400;
const PUBLIC = 0o444;
const DB_FILE = 0o644;

export interface CaSubjectFields {
  readonly country: string;
  readonly state: string;
  readonly organization: string;
  readonly email: string;
}

/** Subject values from the environment (upstream's variables and defaults), CERT_EMAIL prompted. */
export async function obtainCaSubject(ctx: CoreContext): Promise<CaSubjectFields> {
  return {
    email: await obtainText(ctx, { flagValue: undefined, envKey: 'CERT_EMAIL', label: 'certificate e-mail' }),
    country: await obtainText(ctx, { flagValue: undefined, envKey: 'CERT_COUNTRY_CODE', label: 'country code', defaultValue: 'SE' }),
    state: await obtainText(ctx, { flagValue: undefined, envKey: 'CERT_STATE_PROVINCE', label: 'state or province', defaultValue: 'unknown' }),
    organization: await obtainText(ctx, { flagValue: undefined, envKey: 'CERT_COMPANY', label: 'company', defaultValue: 'unknown' }),
  };
}

function dn(fields: CaSubjectFields, commonName: string): DistinguishedName {
  return { country: fields.country, state: fields.state, organization: fields.organization, email: fields.email, commonName };
}

/** Which CA artefacts are missing. Computed first, so inputs are gathered before any write. */
interface CaPlan {
  rootKey: boolean;
  rootCert: boolean;
  intermediateKey: boolean;
  intermediateCert: boolean;
  chain: boolean;
}

async function planCa(ws: Workspace): Promise<CaPlan> {
  const missing = async (rel: string): Promise<boolean> => (await ws.stat(rel)) === undefined;
  // A certificate without its key cannot sign anything, and a new key would not match it.
  for (const [key, cert] of [[caLayout.root.key, caLayout.root.cert], [caLayout.intermediate.key, caLayout.intermediate.cert]] as const) {
    if ((await missing(key)) && !(await missing(cert))) {
      throw new UserError(`${key} is missing but ${cert} exists`, {
        hints: [`restore ${key} from a backup, or remove ${cert} to create a new CA (every node certificate must then be re-issued)`],
      });
    }
  }
  return {
    rootKey: await missing(caLayout.root.key),
    rootCert: await missing(caLayout.root.cert),
    intermediateKey: await missing(caLayout.intermediate.key),
    intermediateCert: await missing(caLayout.intermediate.cert),
    chain: await missing(caLayout.intermediate.chain),
  };
}

export interface CreateCaDeps {
  readonly ctx: CoreContext;
  readonly workspace: Workspace;
  readonly pki: PkiEngine;
}

/**
 * Prepares the root and intermediate CA in upstream's layout and returns the step that writes it.
 * Inputs (passwords, subject) are gathered here, before anything is written, and only for what is
 * missing; every artefact that exists is kept as it is, so a second run changes nothing and an
 * interrupted run resumes where it stopped.
 */
export interface PreparedCa {
  /** Writes what is missing. */
  readonly apply: () => Promise<void>;
  /** Values the operator typed (none of them was in the environment), keyed by variable name. */
  readonly typed: { readonly texts: Readonly<Record<string, string>>; readonly passwords: readonly SecretValue[] };
}

export async function prepareCertificateAuthority(deps: CreateCaDeps): Promise<PreparedCa> {
  const { ctx, workspace: ws } = deps;
  const plan = await planCa(ws);
  const needsCerts = plan.rootCert || plan.intermediateCert;
  const needsRootPass = plan.rootKey || plan.rootCert || plan.intermediateCert;
  const needsIntermediatePass = plan.intermediateKey || plan.intermediateCert;

  // What the environment lacks is what the operator will be asked for.
  const unset = (key: string): boolean => envValue(ctx.env, key) === undefined;
  const emailAsked = unset('CERT_EMAIL');
  const subject = needsCerts || (await ws.stat(caLayout.root.opensslConfig)) === undefined ? await obtainCaSubject(ctx) : undefined;
  const rootPass = needsRootPass
    ? await obtainPassword(ctx, { envKeys: ['CA_PASS'], label: 'CA root password', confirm: plan.rootKey })
    : undefined;
  const intermediatePass = needsIntermediatePass
    ? await obtainPassword(ctx, { envKeys: ['INTERMEDIATE_CA_PASS'], label: 'CA intermediate password', confirm: plan.intermediateKey })
    : undefined;
  // Open existing keys now: a wrong password must fail before the first write, not half-way.
  const inputs: CaInputs = {
    subject,
    rootPass,
    intermediatePass,
    rootKey: plan.rootKey ? undefined : await openKey(deps, caLayout.root.key, rootPass),
    intermediateKey: plan.intermediateKey ? undefined : await openKey(deps, caLayout.intermediate.key, intermediatePass),
  };
  const passwords = [rootPass, intermediatePass].filter((pass): pass is SecretValue => pass !== undefined && unset(pass.name));
  const texts: Record<string, string> = subject !== undefined && emailAsked ? { CERT_EMAIL: subject.email } : {};
  return { apply: () => applyCa(deps, plan, inputs), typed: { texts, passwords } };
}

interface CaInputs {
  subject: CaSubjectFields | undefined;
  rootPass: SecretValue | undefined;
  intermediatePass: SecretValue | undefined;
  /** Existing keys, decrypted; undefined when the key is to be created or not needed. */
  rootKey: SecretValue | undefined;
  intermediateKey: SecretValue | undefined;
}

async function applyCa(deps: CreateCaDeps, plan: CaPlan, inputs: CaInputs): Promise<void> {
  const { workspace: ws, pki } = deps;
  const { subject, rootPass, intermediatePass } = inputs;
  await createLayout(deps, subject);

  const rootKey = plan.rootKey ? await createKey(deps, caLayout.root.key, must(rootPass)) : inputs.rootKey;
  let rootCertPem: string;
  if (plan.rootCert) {
    const cert = pki.selfSignedRootCa({ key: must(rootKey), subject: dn(must(subject), `${must(subject).organization} Root CA`), days: caValidityDays.root });
    await write(deps, caLayout.root.cert, cert.pem, PUBLIC, 'root CA certificate');
    rootCertPem = cert.pem;
  } else {
    rootCertPem = (await ws.readFile(caLayout.root.cert)).toString('utf8');
  }

  const intermediateKey = plan.intermediateKey
    ? await createKey(deps, caLayout.intermediate.key, must(intermediatePass))
    : inputs.intermediateKey;
  let intermediateCertPem: string;
  if (plan.intermediateCert) {
    const intermediateSubject = dn(must(subject), `${must(subject).organization} Intermediate CA`);
    if ((await ws.stat(caLayout.intermediate.csr)) === undefined) {
      const csr = pki.csr({ key: must(intermediateKey), subject: intermediateSubject });
      await write(deps, caLayout.intermediate.csr, csr, DB_FILE, 'intermediate CA signing request');
    }
    intermediateCertPem = await issueIntermediate(deps, must(rootKey), rootCertPem, must(intermediateKey), intermediateSubject);
  } else {
    intermediateCertPem = (await ws.readFile(caLayout.intermediate.cert)).toString('utf8');
  }

  if (plan.chain) {
    // Root first, then intermediate: the order upstream's nodes were given.
    await write(deps, caLayout.intermediate.chain, `${rootCertPem.trimEnd()}\n${intermediateCertPem.trimEnd()}\n`, PUBLIC, 'CA chain');
  }
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('internal: CA plan asked for a value it did not gather');
  return value;
}

async function write(deps: CreateCaDeps, rel: string, data: string, mode: number, what: string): Promise<void> {
  const created = await deps.workspace.writeFile(rel, data, { mode, exclusive: true });
  deps.ctx.reporter.emit(created ? { kind: 'created', path: rel, what } : { kind: 'skipped', path: rel, reason: 'already exists' });
}

/** Folders and openssl bookkeeping files that `openssl ca` expects. */
async function createLayout(deps: CreateCaDeps, subject: CaSubjectFields | undefined): Promise<void> {
  const ws = deps.workspace;
  for (const dir of [caLayout.root.dir, ...caLayout.root.subdirs, caLayout.intermediate.dir, ...caLayout.intermediate.subdirs]) {
    await ws.ensureDir(dir, 0o700);
  }
  const bookkeeping: Array<[string, string]> = [
    [caLayout.root.index, ''],
    [caLayout.root.serial, `${firstSerial}\n`],
    [caLayout.intermediate.index, ''],
    [caLayout.intermediate.serial, `${firstSerial}\n`],
    [caLayout.intermediate.crlnumber, `${firstSerial}\n`],
  ];
  for (const [rel, content] of bookkeeping) {
    if ((await ws.stat(rel)) === undefined) await write(deps, rel, content, DB_FILE, 'openssl CA database');
  }
  if (subject !== undefined) {
    for (const [rel, kind] of [[caLayout.root.opensslConfig, 'root'], [caLayout.intermediate.opensslConfig, 'intermediate']] as const) {
      if ((await ws.stat(rel)) === undefined) {
        await write(deps, rel, opensslConfig(kind, dn(subject, '')), DB_FILE, 'openssl configuration');
      }
    }
  }
}

async function createKey(deps: CreateCaDeps, rel: string, pass: SecretValue): Promise<SecretValue> {
  const key = await deps.pki.generateRsaKey(caKeyBits);
  await write(deps, rel, deps.pki.encryptKey(key, pass), PRIVATE, 'encrypted CA key');
  return key;
}

/** Decrypts a stored key when a password was gathered for it (i.e. it is needed for signing). */
async function openKey(deps: CreateCaDeps, rel: string, pass: SecretValue | undefined): Promise<SecretValue | undefined> {
  if (pass === undefined) return undefined;
  return deps.pki.decryptKey((await deps.workspace.readFile(rel)).toString('utf8'), pass, rel);
}

/** Signs the intermediate with the root and records it the way `openssl ca` would. */
async function issueIntermediate(
  deps: CreateCaDeps,
  rootKey: SecretValue,
  rootCertPem: string,
  intermediateKey: SecretValue,
  subject: DistinguishedName,
): Promise<string> {
  const ws = deps.workspace;
  const serialHex = parseSerialFile((await ws.readFile(caLayout.root.serial)).toString('utf8'));
  const cert = deps.pki.signIntermediateCa({
    issuerKey: rootKey,
    issuerCertPem: rootCertPem,
    subjectKey: intermediateKey,
    subject,
    serialHex,
    days: caValidityDays.intermediate,
  });
  await ws.writeFile(`${caLayout.root.newcerts}/${cert.serialHex}.pem`, cert.pem, { mode: DB_FILE });
  const index = (await ws.readFile(caLayout.root.index)).toString('utf8');
  await ws.writeFile(caLayout.root.index, index + indexLine({ notAfter: cert.notAfter, serialHex: cert.serialHex, subject }), { mode: DB_FILE });
  await ws.writeFile(caLayout.root.serial, `${nextSerial(cert.serialHex)}\n`, { mode: DB_FILE });
  await write(deps, caLayout.intermediate.cert, cert.pem, PUBLIC, 'intermediate CA certificate');
  return cert.pem;
}
