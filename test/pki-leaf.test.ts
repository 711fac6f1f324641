import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it, type TestContext } from 'node:test';
import { ForgePki } from '../src/adapters/forge-pki.js';
import { NodeWorkspace } from '../src/adapters/node-workspace.js';
import type { CoreContext } from '../src/core/context.js';
import { prepareCertificateAuthority } from '../src/core/pki/create-ca.js';
import { leafValidityDays } from '../src/core/pki/leaf-layout.js';
import { type CertNode, ensureNodeCertificates, nodeCertificateBundle, prepareNodeCertificates } from '../src/core/pki/node-certs.js';
import { ensureOperatorCertificate, readOperatorCredentials } from '../src/core/pki/operator-cert.js';
import { canonicalIp } from '../src/core/pki/subject-alt-names.js';
import { UserError } from '../src/domain/errors.js';
import { SecretValue } from '../src/domain/secret-value.js';
import type { ProgressEvent, Reporter } from '../src/ports/reporter.js';
import { caEnv } from './support/cli.js';
import { snapshot, tempDir } from './support/repo.js';

const exec = promisify(execFile);
const DAY_MS = 24 * 60 * 60 * 1000;
const pki = new ForgePki();

const ROOT = 'ca/certs/ca.cert.pem';
const INTERMEDIATE = 'ca/intermediate/certs/intermediate.cert.pem';
const CHAIN = 'ca/intermediate/certs/ca-chain.cert.pem';
const PRIV = 'ca/intermediate/private';
const OPERATOR_CERT = 'ca/intermediate/operator/nix-infra-operator.cert.pem';
const OPERATOR_KEY = 'ca/intermediate/operator/nix-infra-operator.key.pem';

class Events implements Reporter {
  readonly events: ProgressEvent[] = [];
  emit(event: ProgressEvent): void {
    this.events.push(event);
  }
}

const noPrompts = {
  interactive: false,
  confirm: () => Promise.reject(new Error('no prompts in tests')),
  text: () => Promise.reject(new Error('no prompts in tests')),
  secret: () => Promise.reject(new Error('no prompts in tests')),
};

function context(env: Record<string, string>, now: () => Date = () => new Date()): CoreContext & { reporter: Events } {
  return { env, prompter: noPrompts, reporter: new Events(), now };
}

const env = { ...caEnv, CERT_COMPANY: 'Acme' };

function openssl(args: string[], cwd: string, extraEnv: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return exec('openssl', args, { cwd, env: { ...process.env, ...extraEnv } });
}

/** SAN and EKU as openssl prints them. */
async function extensions(dir: string, rel: string): Promise<{ sans: string[]; eku: string; text: string }> {
  const { stdout } = await openssl(['x509', '-in', rel, '-noout', '-ext', 'subjectAltName,extendedKeyUsage,basicConstraints,keyUsage'], dir);
  const lines = stdout.split('\n').map((l) => l.trim());
  const after = (heading: string): string => {
    const at = lines.findIndex((l) => l.startsWith(heading));
    return at < 0 ? '' : (lines[at + 1] ?? '');
  };
  const sanLine = after('X509v3 Subject Alternative Name');
  const ekuLine = after('X509v3 Extended Key Usage');
  return { sans: sanLine === '' ? [] : sanLine.split(', ').sort(), eku: ekuLine, text: stdout };
}

async function verify(dir: string, rel: string, purpose: 'sslserver' | 'sslclient'): Promise<string> {
  const { stdout } = await openssl(['verify', '-CAfile', ROOT, '-untrusted', INTERMEDIATE, '-purpose', purpose, rel], dir);
  return stdout;
}

async function publicKeyOfKey(dir: string, rel: string): Promise<string> {
  return (await openssl(['pkey', '-in', rel, '-pubout'], dir)).stdout;
}

async function publicKeyOfCert(dir: string, rel: string): Promise<string> {
  return (await openssl(['x509', '-in', rel, '-noout', '-pubkey'], dir)).stdout;
}

async function mode(dir: string, rel: string): Promise<number> {
  return (await stat(path.join(dir, rel))).mode & 0o777;
}

const etcd001: CertNode = { name: 'etcd001', addresses: ['203.0.113.10', '10.0.0.2'], control: true };
const worker001: CertNode = { name: 'worker001', addresses: ['203.0.113.20', '2001:db8::20'], control: false };

/** One CA for the whole file (4096-bit keys); each test works on its own copy. */
let templateDir = '';
before(async () => {
  templateDir = await mkdtemp(path.join(tmpdir(), 'nix-infra-pki-leaf-'));
  await (await prepareCertificateAuthority({ ctx: context(env), workspace: new NodeWorkspace(templateDir), pki })).apply();
});
after(() => rm(templateDir, { recursive: true, force: true }));

async function project(t: TestContext): Promise<{ dir: string; ws: NodeWorkspace }> {
  const dir = await tempDir(t);
  await cp(templateDir, dir, { recursive: true });
  return { dir, ws: new NodeWorkspace(dir) };
}

describe('node certificates', () => {
  it('issues client and peer certs that openssl verifies, with the node\'s own SANs, EKU, modes and validity', async (t) => {
    const { dir, ws } = await project(t);
    const ctx = context(env);
    const results = await ensureNodeCertificates({ ctx, workspace: ws, pki }, [etcd001, worker001]);
    assert.deepEqual(
      results.map((r) => [r.owner, r.kind, r.status, r.serialHex]),
      [['etcd001', 'client', 'created', '1000'], ['etcd001', 'peer', 'created', '1001'], ['worker001', 'client', 'created', '1002']],
    );
    assert.deepEqual((await readdir(path.join(dir, PRIV))).sort(), [
      'etcd001-client-tls.cert.pem', 'etcd001-client-tls.key.pem', 'etcd001-peer-tls.cert.pem', 'etcd001-peer-tls.key.pem',
      'intermediate.key.pem', 'worker001-client-tls.cert.pem', 'worker001-client-tls.key.pem',
    ]);

    const expectedSans: Record<string, string[]> = {
      etcd001: ['DNS:etcd001', 'IP Address:10.0.0.2', 'IP Address:127.0.0.1', 'IP Address:203.0.113.10'],
      worker001: ['DNS:worker001', 'IP Address:127.0.0.1', 'IP Address:2001:DB8:0:0:0:0:0:20', 'IP Address:203.0.113.20'],
    };
    for (const [node, kind] of [['etcd001', 'client'], ['etcd001', 'peer'], ['worker001', 'client']] as const) {
      const cert = `${PRIV}/${node}-${kind}-tls.cert.pem`;
      const key = `${PRIV}/${node}-${kind}-tls.key.pem`;
      assert.match(await verify(dir, cert, 'sslserver'), /: OK\n$/, `${cert} as a TLS server`);
      assert.match(await verify(dir, cert, 'sslclient'), /: OK\n$/, `${cert} as a TLS client`);
      const ext = await extensions(dir, cert);
      // Exactly this node's addresses: nothing of the other node's.
      assert.deepEqual(ext.sans, expectedSans[node], cert);
      assert.equal(ext.eku, 'TLS Web Server Authentication, TLS Web Client Authentication');
      assert.match(ext.text, /CA:FALSE/);
      assert.match(ext.text, /critical\n\s+Digital Signature, .*Key Encipherment/);
      assert.equal(await publicKeyOfKey(dir, key), await publicKeyOfCert(dir, cert), `${key} belongs to ${cert}`);
      assert.equal(await mode(dir, key), 0o600, key);
      assert.equal(await mode(dir, cert), 0o644, cert);
      assert.match((await readFile(path.join(dir, key), 'utf8')), /^-----BEGIN PRIVATE KEY-----/, 'unencrypted PKCS#8, as etcd reads it');

      const x509 = new X509Certificate(await readFile(path.join(dir, cert)));
      assert.equal(x509.subject, `C=SE\nST=unknown\nO=Acme\nCN=${node} ${kind} tls\nemailAddress=ops@example.com`);
      assert.equal((Date.parse(x509.validTo) - Date.parse(x509.validFrom)) / DAY_MS, leafValidityDays);
      const bits = (await openssl(['x509', '-in', cert, '-noout', '-text'], dir)).stdout;
      assert.match(bits, /Public-Key: \(2048 bit\)/);
      assert.match(bits, /Signature Algorithm: sha256WithRSAEncryption/);
    }
    assert.equal(await mode(dir, PRIV), 0o700);

    // openssl's database: one valid line per certificate, the serial moved on, copies in newcerts/.
    const index = await readFile(path.join(dir, 'ca/intermediate/index.txt'), 'utf8');
    const lines = index.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? '', /^V\t\d{12}Z\t\t1000\tunknown\t\/C=SE\/ST=unknown\/O=Acme\/CN=etcd001 client tls\/emailAddress=ops@example\.com$/);
    assert.match(lines[1] ?? '', /\t1001\tunknown\t.*CN=etcd001 peer tls/);
    assert.match(lines[2] ?? '', /\t1002\tunknown\t.*CN=worker001 client tls/);
    assert.equal(await readFile(path.join(dir, 'ca/intermediate/serial'), 'utf8'), '1003\n');
    assert.equal(
      await readFile(path.join(dir, 'ca/intermediate/newcerts/1002.pem'), 'utf8'),
      await readFile(path.join(dir, PRIV, 'worker001-client-tls.cert.pem'), 'utf8'),
    );
    assert.ok(ctx.reporter.events.some((e) => e.kind === 'created' && e.path === `${PRIV}/etcd001-peer-tls.cert.pem`));
  });

  it('a second run with the same addresses changes nothing and needs no password', async (t) => {
    const { dir, ws } = await project(t);
    await ensureNodeCertificates({ ctx: context(env), workspace: ws, pki }, [etcd001, worker001]);
    const before = await snapshot(dir);
    // Same addresses in another spelling and order: still the same certificate.
    const respelled = { ...worker001, addresses: ['2001:DB8:0:0::20', '203.0.113.20', '127.0.0.1'] };
    const ctx = context({}); // no INTERMEDIATE_CA_PASS: asking for it would fail
    const results = await ensureNodeCertificates({ ctx, workspace: ws, pki }, [etcd001, respelled]);
    assert.deepEqual(results.map((r) => r.status), ['skipped', 'skipped', 'skipped']);
    assert.deepEqual(await snapshot(dir), before);
    assert.deepEqual(ctx.reporter.events.map((e) => e.kind), ['skipped', 'skipped', 'skipped']);
  });

  it('a changed address re-issues that node only, supersedes the old entry, and openssl ca still works on the folder', async (t) => {
    const { dir, ws } = await project(t);
    await ensureNodeCertificates({ ctx: context(env), workspace: ws, pki }, [etcd001, worker001]);
    const etcdBefore = await readFile(path.join(dir, PRIV, 'etcd001-client-tls.cert.pem'));
    const workerKeyBefore = await readFile(path.join(dir, PRIV, 'worker001-client-tls.key.pem'));
    const moved = { ...worker001, addresses: ['198.51.100.7', '2001:db8::20'] };

    const ctx = context(env);
    const results = await ensureNodeCertificates({ ctx, workspace: ws, pki }, [etcd001, moved]);
    assert.deepEqual(results.map((r) => r.status), ['skipped', 'skipped', 'reissued']);
    assert.match(results[2]?.reason ?? '', /^addresses changed: add IP:198\.51\.100\.7; drop IP:203\.0\.113\.20$/);
    assert.ok(ctx.reporter.events.some((e) => e.kind === 'step' && /worker001: issuing client certificate \(addresses changed/.test(e.message)));
    assert.deepEqual(await readFile(path.join(dir, PRIV, 'etcd001-client-tls.cert.pem')), etcdBefore);

    const cert = `${PRIV}/worker001-client-tls.cert.pem`;
    const key = `${PRIV}/worker001-client-tls.key.pem`;
    const ext = await extensions(dir, cert);
    assert.deepEqual(ext.sans, ['DNS:worker001', 'IP Address:127.0.0.1', 'IP Address:198.51.100.7', 'IP Address:2001:DB8:0:0:0:0:0:20']);
    assert.match(await verify(dir, cert, 'sslserver'), /OK/);
    assert.notDeepEqual(await readFile(path.join(dir, key)), workerKeyBefore, 'a re-issued certificate gets a new key');
    assert.equal(await publicKeyOfKey(dir, key), await publicKeyOfCert(dir, cert));

    const index = (await readFile(path.join(dir, 'ca/intermediate/index.txt'), 'utf8')).trimEnd().split('\n');
    assert.equal(index.length, 4);
    assert.match(index[2] ?? '', /^R\t\d{12}Z\t\d{12}Z,superseded\t1002\tunknown\t.*CN=worker001 client tls/);
    assert.match(index[3] ?? '', /^V\t\d{12}Z\t\t1003\tunknown\t.*CN=worker001 client tls/);

    // `openssl ca` reads the database we wrote: it lists the superseded cert in a CRL...
    const caDir = path.join(dir, 'ca/intermediate');
    const pass = { INTERMEDIATE_CA_PASS: caEnv.INTERMEDIATE_CA_PASS };
    await openssl(['ca', '-config', 'openssl.cnf', '-gencrl', '-passin', 'env:INTERMEDIATE_CA_PASS', '-out', 'crl/test.crl.pem'], caDir, pass);
    const crl = (await openssl(['crl', '-in', 'crl/test.crl.pem', '-noout', '-text'], caDir)).stdout;
    assert.match(crl, /Serial Number: 1002\n\s+Revocation Date: .*\n\s+CRL entry extensions:\n\s+X509v3 CRL Reason Code:\s*\n\s+Superseded/);
    assert.doesNotMatch(crl, /Serial Number: 1003/);
    // ...refuses a second valid cert for a subject we hold...
    await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'x.key', '-out', 'dup.csr', '-subj', '/C=SE/ST=unknown/O=Acme/CN=etcd001 client tls/emailAddress=ops@example.com'], caDir);
    await assert.rejects(
      openssl(['ca', '-config', 'openssl.cnf', '-batch', '-passin', 'env:INTERMEDIATE_CA_PASS', '-extensions', 'client_tls', '-days', '1', '-notext', '-in', 'dup.csr', '-out', 'dup.pem'], caDir, pass),
      /already a certificate for/,
    );
    // ...and issues a new one with the next serial, which our next run continues after.
    await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'x.key', '-out', 'x.csr', '-subj', '/CN=by hand'], caDir);
    await openssl(['ca', '-config', 'openssl.cnf', '-batch', '-passin', 'env:INTERMEDIATE_CA_PASS', '-extensions', 'client_tls', '-days', '1', '-notext', '-in', 'x.csr', '-out', 'x.pem'], caDir, pass);
    assert.match((await openssl(['x509', '-in', 'x.pem', '-noout', '-serial'], caDir)).stdout, /serial=1004/);
    const again = await ensureNodeCertificates({ ctx: context(env), workspace: ws, pki }, [{ name: 'worker002', addresses: ['203.0.113.30'], control: false }]);
    assert.equal(again[0]?.serialHex, '1005');
  });

  it('re-issues a certificate that expires within 30 days, and keeps one that does not', async (t) => {
    const { ws } = await project(t);
    await ensureNodeCertificates({ ctx: context(env), workspace: ws, pki }, [worker001]);
    const at = (days: number) => () => new Date(Date.now() + days * DAY_MS);
    const kept = await ensureNodeCertificates({ ctx: context(env, at(leafValidityDays - 31)), workspace: ws, pki }, [worker001]);
    assert.equal(kept[0]?.status, 'skipped');
    const renewed = await ensureNodeCertificates({ ctx: context(env, at(leafValidityDays - 29)), workspace: ws, pki }, [worker001]);
    assert.equal(renewed[0]?.status, 'reissued');
    assert.match(renewed[0]?.reason ?? '', /^expires on \d{4}-\d\d-\d\d, within 30 days$/);
  });

  it('repairs a key without its certificate and a key that does not match', async (t) => {
    const { dir, ws } = await project(t);
    await ensureNodeCertificates({ ctx: context(env), workspace: ws, pki }, [worker001]);
    const cert = `${PRIV}/worker001-client-tls.cert.pem`;
    const key = `${PRIV}/worker001-client-tls.key.pem`;

    // A run that stopped between writing the key and the certificate.
    await writeFile(path.join(dir, key), (await pki.generateRsaKey(2048)).reveal());
    await assert.rejects(nodeCertificateBundle({ workspace: ws, pki }, worker001), (e: unknown) => e instanceof UserError && /does not belong to/.test(e.message));
    const repaired = await ensureNodeCertificates({ ctx: context(env), workspace: ws, pki }, [worker001]);
    assert.deepEqual([repaired[0]?.status, repaired[0]?.reason], ['reissued', 'key does not match the certificate']);
    assert.equal(await publicKeyOfKey(dir, key), await publicKeyOfCert(dir, cert));

    await rm(path.join(dir, cert));
    const again = await ensureNodeCertificates({ ctx: context(env), workspace: ws, pki }, [worker001]);
    assert.deepEqual([again[0]?.status, again[0]?.reason], ['created', 'key without certificate']);
    assert.equal(await publicKeyOfKey(dir, key), await publicKeyOfCert(dir, cert));
    // Every superseded serial is revoked in the database; exactly one valid entry remains.
    const index = await readFile(path.join(dir, 'ca/intermediate/index.txt'), 'utf8');
    assert.equal(index.match(/^V\t/gm)?.length, 1);
  });

  it('checks every input before the first write: wrong password, bad address, no address, bad name', async (t) => {
    const { dir, ws } = await project(t);
    const before = await snapshot(dir);
    await assert.rejects(
      ensureNodeCertificates({ ctx: context({ ...env, INTERMEDIATE_CA_PASS: 'wrong' }), workspace: ws, pki }, [worker001]),
      (e: unknown) => e instanceof UserError && /intermediate\.key\.pem: cannot decrypt/.test(e.message),
    );
    await assert.rejects(
      ensureNodeCertificates({ ctx: context({ CERT_EMAIL: 'x' }), workspace: ws, pki }, [worker001]),
      (e: unknown) => e instanceof UserError && /CA intermediate password is not set/.test(e.message) && /INTERMEDIATE_CA_PASS/.test(e.hints.join()),
    );
    await assert.rejects(
      prepareNodeCertificates({ ctx: context(env), workspace: ws, pki }, [{ name: 'n1', addresses: ['203.0.113.300'], control: false }]),
      /n1: "203\.0\.113\.300" is not an IP address/,
    );
    await assert.rejects(prepareNodeCertificates({ ctx: context(env), workspace: ws, pki }, [{ name: 'n1', addresses: [], control: false }]), /n1 has no address/);
    await assert.rejects(prepareNodeCertificates({ ctx: context(env), workspace: ws, pki }, [{ name: '../x', addresses: ['10.0.0.1'], control: false }]), /cannot name a certificate/);
    await assert.rejects(prepareNodeCertificates({ ctx: context(env), workspace: ws, pki }, [worker001, worker001]), /listed twice/);
    assert.deepEqual(await snapshot(dir), before);
  });

  it('refuses a project without a CA', async (t) => {
    const dir = await tempDir(t);
    await assert.rejects(
      ensureNodeCertificates({ ctx: context(env), workspace: new NodeWorkspace(dir), pki }, [worker001]),
      (e: unknown) => e instanceof UserError && /no complete certificate authority/.test(e.message),
    );
    assert.deepEqual(await readdir(dir), []);
  });
});

describe('upload bundle', () => {
  it('holds the chain and the node\'s own certs and keys under upstream\'s names, keys as secrets', async (t) => {
    const { dir, ws } = await project(t);
    await ensureNodeCertificates({ ctx: context(env), workspace: ws, pki }, [etcd001, worker001]);
    const control = await nodeCertificateBundle({ workspace: ws, pki }, etcd001);
    assert.equal(control.remoteDir, '/root/certs');
    assert.equal(control.fileMode, 0o400);
    assert.equal(control.dirMode, 0o700);
    assert.deepEqual(control.files.map((f) => [f.name, f.secret]), [
      ['ca-chain.cert.pem', false],
      ['etcd001-client-tls.cert.pem', false],
      ['etcd001-client-tls.key.pem', true],
      ['etcd001-peer-tls.cert.pem', false],
      ['etcd001-peer-tls.key.pem', true],
    ]);
    const chain = control.files[0];
    assert.equal(chain?.secret === false && chain.content, await readFile(path.join(dir, CHAIN), 'utf8'));
    const key = control.files[2];
    assert.ok(key?.secret === true && key.content instanceof SecretValue);
    assert.doesNotMatch(JSON.stringify(control), /PRIVATE KEY/, 'keys never print');
    assert.equal(key.content.revealText(), await readFile(path.join(dir, PRIV, 'etcd001-client-tls.key.pem'), 'utf8'));

    const worker = await nodeCertificateBundle({ workspace: ws, pki }, worker001);
    assert.deepEqual(worker.files.map((f) => f.name), ['ca-chain.cert.pem', 'worker001-client-tls.cert.pem', 'worker001-client-tls.key.pem']);
    await assert.rejects(nodeCertificateBundle({ workspace: ws, pki }, { name: 'worker001', control: true }), /worker001-peer-tls\.cert\.pem is missing/);
  });
});

describe('operator certificate', () => {
  it('is a clientAuth-only certificate in ca/intermediate/operator/, kept on a second run', async (t) => {
    const { dir, ws } = await project(t);
    const first = await ensureOperatorCertificate({ ctx: context(env), workspace: ws, pki });
    assert.deepEqual([first.status, first.certPath, first.keyPath], ['created', OPERATOR_CERT, OPERATOR_KEY]);
    assert.match(await verify(dir, OPERATOR_CERT, 'sslclient'), /OK/);
    await assert.rejects(verify(dir, OPERATOR_CERT, 'sslserver'), /unsuitable certificate purpose/);
    const ext = await extensions(dir, OPERATOR_CERT);
    assert.equal(ext.eku, 'TLS Web Client Authentication');
    assert.deepEqual(ext.sans, []);
    assert.match(new X509Certificate(await readFile(path.join(dir, OPERATOR_CERT))).subject, /CN=nix-infra-operator/);
    assert.equal(await mode(dir, OPERATOR_KEY), 0o600);
    assert.equal(await mode(dir, OPERATOR_CERT), 0o644);
    assert.equal(await mode(dir, 'ca/intermediate/operator'), 0o700);
    assert.equal(await publicKeyOfKey(dir, OPERATOR_KEY), await publicKeyOfCert(dir, OPERATOR_CERT));

    const creds = await readOperatorCredentials({ workspace: ws, pki });
    assert.equal(creds.caChainPem, await readFile(path.join(dir, CHAIN), 'utf8'));
    assert.equal(String(creds.key), `[REDACTED:${OPERATOR_KEY}]`);

    const before = await snapshot(dir);
    const second = await ensureOperatorCertificate({ ctx: context({}), workspace: ws, pki });
    assert.equal(second.status, 'skipped');
    assert.deepEqual(await snapshot(dir), before);
  });
});

describe('certificates from a CA made by the openssl CLI (upstream projects)', () => {
  it('keeps the CA\'s UTF-8 names byte for byte and supersedes an upstream leaf that lacks the DNS name', async (t) => {
    const dir = await tempDir(t);
    const passes = { CA_PASS: caEnv.CA_PASS, INTERMEDIATE_CA_PASS: caEnv.INTERMEDIATE_CA_PASS };
    for (const sub of ['ca/certs', 'ca/private', 'ca/intermediate/certs', 'ca/intermediate/private', 'ca/intermediate/newcerts', 'ca/intermediate/csr']) {
      await mkdir(path.join(dir, sub), { recursive: true });
    }
    const org = 'Åkerberg AB';
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-keyout', 'ca/private/ca.key.pem', '-passout', 'env:CA_PASS', '-utf8', '-days', '30', '-sha256',
      '-subj', `/C=SE/ST=Skåne/O=${org}/CN=${org} Root CA/emailAddress=ops@example.com`,
      '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,digitalSignature,cRLSign,keyCertSign',
      '-out', 'ca/certs/ca.cert.pem'], dir, passes);
    await openssl(['req', '-new', '-newkey', 'rsa:2048', '-keyout', 'ca/intermediate/private/intermediate.key.pem', '-passout', 'env:INTERMEDIATE_CA_PASS', '-utf8',
      '-subj', `/C=SE/ST=Skåne/O=${org}/CN=${org} Intermediate CA/emailAddress=ops@example.com`, '-out', 'ca/intermediate/csr/intermediate.csr.pem'], dir, passes);
    await writeFile(path.join(dir, 'v3.cnf'), '[v3]\nbasicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,digitalSignature,cRLSign,keyCertSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n');
    await openssl(['x509', '-req', '-in', 'ca/intermediate/csr/intermediate.csr.pem', '-CA', 'ca/certs/ca.cert.pem', '-CAkey', 'ca/private/ca.key.pem', '-passin', 'env:CA_PASS',
      '-set_serial', '0x1000', '-days', '30', '-sha256', '-extfile', 'v3.cnf', '-extensions', 'v3', '-out', 'ca/intermediate/certs/intermediate.cert.pem'], dir, passes);
    await writeFile(path.join(dir, 'ca/intermediate/serial'), '1000\n');
    await writeFile(path.join(dir, 'ca/intermediate/index.txt'), '');
    await writeFile(path.join(dir, 'ca/intermediate/crlnumber'), '1000\n');
    const { opensslConfig } = await import('../src/core/pki/openssl-config.js');
    await writeFile(path.join(dir, 'ca/intermediate/openssl.cnf'), opensslConfig('intermediate', { country: 'SE', state: 'Skåne', organization: org, commonName: '', email: 'ops@example.com' }));

    // An upstream leaf: openssl ca, SAN without the DNS name.
    const caDir = path.join(dir, 'ca/intermediate');
    await writeFile(path.join(caDir, 'leaf.cnf'), '[leaf]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,nonRepudiation,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:203.0.113.20, IP:127.0.0.1\n');
    await openssl(['genrsa', '-out', 'private/worker001-client-tls.key.pem', '2048'], caDir);
    await openssl(['req', '-new', '-utf8', '-key', 'private/worker001-client-tls.key.pem', '-subj', `/C=SE/ST=Skåne/O=${org}/CN=worker001 client tls/emailAddress=ops@example.com`, '-out', 'leaf.csr'], caDir);
    await openssl(['ca', '-config', 'openssl.cnf', '-batch', '-passin', 'env:INTERMEDIATE_CA_PASS', '-extfile', 'leaf.cnf', '-extensions', 'leaf', '-days', '1835', '-notext', '-in', 'leaf.csr', '-out', 'private/worker001-client-tls.cert.pem'], caDir, passes);

    const ws = new NodeWorkspace(dir);
    const results = await ensureNodeCertificates({ ctx: context(env), workspace: ws, pki }, [{ ...worker001, addresses: ['203.0.113.20'] }, etcd001]);
    assert.deepEqual(results.map((r) => [r.owner, r.kind, r.status]), [['worker001', 'client', 'reissued'], ['etcd001', 'client', 'created'], ['etcd001', 'peer', 'created']]);
    assert.equal(results[0]?.reason, 'addresses changed: add DNS:worker001');
    assert.ok((await stat(path.join(dir, CHAIN))).isFile(), 'the chain file is written when missing, as upstream generateCerts did');

    const leaf = `${PRIV}/worker001-client-tls.cert.pem`;
    assert.match(await verify(dir, leaf, 'sslserver'), /OK/);
    // The leaf's issuer is the intermediate's subject byte for byte (Go compares the bytes).
    const rawIssuer = (await openssl(['x509', '-in', leaf, '-noout', '-issuer', '-nameopt', 'RFC2253,-esc_msb'], dir)).stdout.replace(/^issuer=/, '');
    const rawSubject = (await openssl(['x509', '-in', INTERMEDIATE, '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb'], dir)).stdout.replace(/^subject=/, '');
    assert.equal(rawIssuer, rawSubject);
    assert.ok(pki.isIssuedBy(await readFile(path.join(dir, leaf), 'utf8'), await readFile(path.join(dir, INTERMEDIATE), 'utf8')));
    assert.match(new X509Certificate(await readFile(path.join(dir, leaf))).subject, /O=Åkerberg AB/);

    const index = (await readFile(path.join(caDir, 'index.txt'), 'utf8')).trimEnd().split('\n');
    assert.match(index[0] ?? '', /^R\t\d{12}Z\t\d{12}Z,superseded\t1000\t/);
    assert.match(index[1] ?? '', /^V\t\d{12}Z\t\t1001\t/);
  });
});

describe('the CA check for names etcd cannot parse', () => {
  it('refuses a CA whose names hold an e-mail as PrintableString (early nix-infra builds), before any write', async (t) => {
    const { dir, ws } = await project(t);
    const problem = pki.nameEncodingProblem(await legacyPrintableCert());
    assert.match(problem ?? '', /emailAddress "ops@example\.com" as a PrintableString/);
    assert.equal(pki.nameEncodingProblem(await readFile(path.join(dir, ROOT), 'utf8')), undefined, 'new CAs are fine');

    await writeFile(path.join(dir, ROOT), await legacyPrintableCert());
    const before = await snapshot(dir);
    await assert.rejects(
      ensureNodeCertificates({ ctx: context(env), workspace: ws, pki }, [worker001]),
      (e: unknown) => e instanceof UserError && /etcd would reject certificates from this CA/.test(e.message),
    );
    assert.deepEqual(await snapshot(dir), before);
  });
});

/** A self-signed cert whose emailAddress is a PrintableString, as forge wrote by default. */
async function legacyPrintableCert(): Promise<string> {
  const forge = (await import('node-forge')).default;
  const key = forge.pki.privateKeyFromPem((await pki.generateRsaKey(2048)).revealText());
  const cert = forge.pki.createCertificate();
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date();
  cert.validity.notAfter = new Date(Date.now() + DAY_MS);
  const attrs = [{ shortName: 'CN', value: 'old' }, { name: 'emailAddress', value: 'ops@example.com' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.sign(key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

// ---------------------------------------------------------------------------------------------
// etcd itself (Go's TLS stack) with these certificates, when etcd is installed.

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function hasEtcd(): Promise<boolean> {
  try {
    await exec('etcd', ['--version']);
    await exec('etcdctl', ['version']);
    return true;
  } catch {
    return false;
  }
}

describe('etcd accepts the certificates (mTLS with Go\'s x509)', async () => {
  const available = await hasEtcd();
  it('serves with the control node\'s client and peer certs and accepts the operator\'s and a worker\'s client certs', { skip: !available && 'etcd not installed' }, async (t) => {
    const { dir, ws } = await project(t);
    await ensureNodeCertificates({ ctx: context(env), workspace: ws, pki }, [{ ...etcd001, addresses: ['127.0.0.1'] }, worker001]);
    await ensureOperatorCertificate({ ctx: context(env), workspace: ws, pki });
    const p = (rel: string): string => path.join(dir, rel);
    const clientPort = await freePort();
    const peerPort = await freePort();
    const child: ChildProcess = spawn('etcd', [
      '--name', 'etcd001', '--data-dir', p('etcd-data'),
      '--listen-client-urls', `https://127.0.0.1:${clientPort}`, '--advertise-client-urls', `https://127.0.0.1:${clientPort}`,
      '--listen-peer-urls', `https://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `https://127.0.0.1:${peerPort}`,
      '--initial-cluster', `etcd001=https://127.0.0.1:${peerPort}`,
      '--cert-file', p(`${PRIV}/etcd001-client-tls.cert.pem`), '--key-file', p(`${PRIV}/etcd001-client-tls.key.pem`),
      '--client-cert-auth', '--trusted-ca-file', p(CHAIN),
      '--peer-cert-file', p(`${PRIV}/etcd001-peer-tls.cert.pem`), '--peer-key-file', p(`${PRIV}/etcd001-peer-tls.key.pem`),
      '--peer-client-cert-auth', '--peer-trusted-ca-file', p(CHAIN),
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    t.after(async () => {
      if (child.exitCode === null) child.kill();
      await exited;
    });

    const etcdctl = (cert: string, key: string, args: string[]) =>
      exec('etcdctl', ['--endpoints', `https://127.0.0.1:${clientPort}`, '--cacert', p(CHAIN), '--cert', p(cert), '--key', p(key), '--dial-timeout', '2s', ...args], {
        env: { ...process.env, ETCDCTL_API: '3' },
      });
    // Wait (bounded by attempts, not by time) until etcd answers.
    let healthy = false;
    for (let attempt = 0; attempt < 60 && !healthy && child.exitCode === null; attempt++) {
      try {
        await etcdctl(OPERATOR_CERT, OPERATOR_KEY, ['endpoint', 'health']);
        healthy = true;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    assert.ok(healthy, `etcd did not become healthy:\n${log.slice(-2000)}`);
    await etcdctl(OPERATOR_CERT, OPERATOR_KEY, ['put', '/cluster/nodes/worker001', '{"name":"worker001"}']);
    const got = await etcdctl(`${PRIV}/worker001-client-tls.cert.pem`, `${PRIV}/worker001-client-tls.key.pem`, ['get', '/cluster/nodes/worker001', '--print-value-only']);
    assert.equal(got.stdout.trim(), '{"name":"worker001"}');
    // A certificate from another CA is refused.
    const strangerDir = await tempDir(t);
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 's.key', '-out', 's.pem', '-days', '1', '-subj', '/CN=stranger'], strangerDir);
    await assert.rejects(
      exec('etcdctl', ['--endpoints', `https://127.0.0.1:${clientPort}`, '--cacert', p(CHAIN), '--cert', path.join(strangerDir, 's.pem'), '--key', path.join(strangerDir, 's.key'), '--dial-timeout', '2s', 'get', 'x'], { env: { ...process.env, ETCDCTL_API: '3' } }),
    );
  });
});

describe('canonical IPs', () => {
  it('spells equal addresses the same way', () => {
    assert.equal(canonicalIp('2001:DB8:0:0:0:0:0:20'), '2001:db8::20');
    assert.equal(canonicalIp('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1');
    assert.equal(canonicalIp('::ffff:192.0.2.1'), '::ffff:c000:201');
    assert.equal(canonicalIp('203.0.113.10'), '203.0.113.10');
    assert.equal(canonicalIp('::'), '::');
    assert.equal(canonicalIp('fe80::1%eth0'), undefined);
    assert.equal(canonicalIp('etcd001'), undefined);
  });
});
