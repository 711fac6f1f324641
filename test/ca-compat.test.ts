import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { ForgePki } from '../src/adapters/forge-pki.js';
import { UserError } from '../src/domain/errors.js';
import { SecretValue } from '../src/domain/secret-value.js';
import { caEnv, runCli } from './support/cli.js';
import { tempDir } from './support/repo.js';

const exec = promisify(execFile);

/** Runs openssl with passwords in its environment (never in argv). */
function openssl(args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ stdout: string }> {
  return exec('openssl', args, { cwd, env: { ...process.env, ...env } });
}

describe('CA keys written by the openssl CLI (existing upstream projects)', () => {
  const pki = new ForgePki();
  const pass = new SecretValue('CA_PASS', 'upstream-pass');

  for (const [label, extra, header] of [
    ['OpenSSL 3 default: PKCS#8 ENCRYPTED PRIVATE KEY', [] as string[], 'BEGIN ENCRYPTED PRIVATE KEY'],
    ['legacy RSA PRIVATE KEY with DEK-Info', ['-traditional'], 'Proc-Type: 4,ENCRYPTED'],
  ] as const) {
    it(`reads ${label}, and refuses a wrong password with a UserError`, async (t) => {
      const dir = await tempDir(t);
      await openssl(['genrsa', '-aes256', ...extra, '-passout', 'env:CA_PASS', '-out', 'key.pem', '2048'], dir, { CA_PASS: pass.revealText() });
      const pem = await readFile(path.join(dir, 'key.pem'), 'utf8');
      assert.ok(pem.includes(header), `openssl wrote ${header}`);
      if (extra.length > 0) assert.match(pem, /DEK-Info: AES-256-CBC/);

      const key = pki.decryptKey(pem, pass, 'key.pem');
      const cert = pki.selfSignedRootCa({
        key,
        subject: { country: 'SE', state: 's', organization: 'o', commonName: 'test', email: 'a@b.c' },
        days: 1,
      });
      // The certificate's public key must be the openssl key's: compare moduli.
      await writeFile(path.join(dir, 'cert.pem'), cert.pem);
      const fromCert = await openssl(['x509', '-in', 'cert.pem', '-noout', '-modulus'], dir);
      const fromKey = await openssl(['rsa', '-in', 'key.pem', '-passin', 'env:CA_PASS', '-noout', '-modulus'], dir, { CA_PASS: pass.revealText() });
      assert.equal(fromCert.stdout, fromKey.stdout);

      assert.throws(
        () => pki.decryptKey(pem, new SecretValue('CA_PASS', 'wrong'), 'ca/private/ca.key.pem'),
        (error: unknown) => error instanceof UserError && /ca\/private\/ca\.key\.pem/.test(error.message) && /CA_PASS/.test(error.message),
      );
    });
  }

  it('keys nix-infra writes are readable by openssl with the password, and not without it', async (t) => {
    const dir = await tempDir(t);
    const encrypted = pki.encryptKey(await pki.generateRsaKey(2048), pass);
    await writeFile(path.join(dir, 'k.pem'), encrypted);
    await openssl(['pkey', '-in', 'k.pem', '-passin', 'env:P', '-noout'], dir, { P: pass.revealText() });
    await assert.rejects(openssl(['pkey', '-in', 'k.pem', '-passin', 'env:P', '-noout'], dir, { P: 'nope' }));
  });

  it('init completes a CA that upstream started with openssl (root made, intermediate not yet signed)', async (t) => {
    const dir = await tempDir(t);
    await mkdir(path.join(dir, 'ca/private'), { recursive: true });
    await mkdir(path.join(dir, 'ca/certs'), { recursive: true });
    await mkdir(path.join(dir, 'ca/intermediate/private'), { recursive: true });
    const env = { CA_PASS: caEnv.CA_PASS, INTERMEDIATE_CA_PASS: caEnv.INTERMEDIATE_CA_PASS };
    await openssl(['genrsa', '-aes256', '-traditional', '-passout', 'env:CA_PASS', '-out', 'ca/private/ca.key.pem', '2048'], dir, env);
    await openssl(
      ['req', '-new', '-x509', '-days', '30', '-sha256', '-key', 'ca/private/ca.key.pem', '-passin', 'env:CA_PASS',
        '-subj', '/C=SE/ST=unknown/O=Acme/CN=Acme Root CA/emailAddress=ops@example.com',
        '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,digitalSignature,cRLSign,keyCertSign',
        '-out', 'ca/certs/ca.cert.pem'],
      dir, env,
    );
    await openssl(['genrsa', '-aes256', '-passout', 'env:INTERMEDIATE_CA_PASS', '-out', 'ca/intermediate/private/intermediate.key.pem', '2048'], dir, env);
    const rootBefore = await readFile(path.join(dir, 'ca/certs/ca.cert.pem'), 'utf8');

    const result = await runCli(['init', '-d', dir, '--batch', '--ssh-key', 'k', '--ssh-email', 'ops@example.com'], {
      env: { ...env, CERT_EMAIL: 'ops@example.com', CERT_COMPANY: 'Acme' },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readFile(path.join(dir, 'ca/certs/ca.cert.pem'), 'utf8'), rootBefore, 'root kept');
    const verify = await openssl(['verify', '-CAfile', 'ca/certs/ca.cert.pem', 'ca/intermediate/certs/intermediate.cert.pem'], dir);
    assert.match(verify.stdout, /OK/);
  });

  it('a wrong CA_PASS for an existing root key fails with exit 2 and writes nothing new', async (t) => {
    const dir = await tempDir(t);
    const first = await runCli(['init', '-d', dir, '--batch', '--ssh-key', 'k', '--ssh-email', 'ops@example.com'], { env: caEnv });
    assert.equal(first.code, 0, first.stderr);
    // Remove the intermediate cert so the root key must be opened again.
    await exec('rm', ['-f', path.join(dir, 'ca/intermediate/certs/intermediate.cert.pem')]);
    const serialBefore = await readFile(path.join(dir, 'ca/serial'), 'utf8');
    const filesBefore = (await readdir(dir, { recursive: true })).sort();
    const second = await runCli(['init', '-d', dir, '--batch', '--ssh-key', 'k'], { env: { ...caEnv, CA_PASS: 'wrong' } });
    assert.equal(second.code, 2);
    assert.match(second.stderr, /ca\/private\/ca\.key\.pem: cannot decrypt/);
    assert.equal(await readFile(path.join(dir, 'ca/serial'), 'utf8'), serialBefore);
    assert.deepEqual((await readdir(dir, { recursive: true })).sort(), filesBefore, 'no file created or removed');
  });
});
