import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { caEnv, runCli } from './support/cli.js';
import { snapshot, tempDir } from './support/repo.js';

const exec = promisify(execFile);

/** Every file below `dir` with its content hash, mode and mtime: a fingerprint of the folder. */
const initArgs = (dir: string): string[] => ['init', '-d', dir, '--batch', '--ssh-key', 'nixinfra', '--ssh-email', 'ops@example.com'];

describe('init', () => {
  it('creates the project layout with a CA that openssl verifies, and a second run changes nothing', async (t) => {
    const dir = await tempDir(t);
    const first = await runCli(initArgs(dir), { env: caEnv });
    assert.equal(first.code, 0, first.stderr);

    const expected: Record<string, number> = {
      'ssh/nixinfra': 0o600,
      'ssh/nixinfra.pub': 0o644,
      secrets: 0o700,
      'ca/private/ca.key.pem': 0o400,
      'ca/certs/ca.cert.pem': 0o444,
      'ca/intermediate/private/intermediate.key.pem': 0o400,
      'ca/intermediate/certs/intermediate.cert.pem': 0o444,
      'ca/intermediate/certs/ca-chain.cert.pem': 0o444,
      'ca/index.txt': 0o644,
      'ca/intermediate/index.txt': 0o644,
      '.gitignore': 0o644,
      '.env.example': 0o644,
    };
    for (const [rel, mode] of Object.entries(expected)) {
      assert.equal((await stat(path.join(dir, rel))).mode & 0o777, mode, rel);
    }

    const verify = await exec('openssl', ['verify', '-CAfile', 'ca/certs/ca.cert.pem', 'ca/intermediate/certs/intermediate.cert.pem'], { cwd: dir });
    assert.match(verify.stdout, /intermediate\.cert\.pem: OK/);
    // The chain file is what nodes get: openssl must accept the intermediate against it as well.
    await exec('openssl', ['verify', '-CAfile', 'ca/intermediate/certs/ca-chain.cert.pem', 'ca/intermediate/certs/intermediate.cert.pem'], { cwd: dir });

    // openssl's own CA bookkeeping: the intermediate is recorded in the root's database.
    assert.equal((await readFile(path.join(dir, 'ca/serial'), 'utf8')).trim(), '1001');
    assert.match(await readFile(path.join(dir, 'ca/index.txt'), 'utf8'), /^V\t\d{12}Z\t\t1000\tunknown\t\/C=SE\/ST=unknown\/O=unknown\/CN=unknown Intermediate CA\/emailAddress=ops@example\.com\n$/);
    await stat(path.join(dir, 'ca/newcerts/1000.pem'));

    // CA keys are encrypted and open only with their own password.
    const rootKey = await readFile(path.join(dir, 'ca/private/ca.key.pem'), 'utf8');
    assert.match(rootKey, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    await exec('openssl', ['pkey', '-in', 'ca/private/ca.key.pem', '-passin', 'env:CA_PASS', '-noout'], { cwd: dir, env: { ...process.env, CA_PASS: caEnv.CA_PASS } });
    await assert.rejects(exec('openssl', ['pkey', '-in', 'ca/private/ca.key.pem', '-passin', 'env:CA_PASS', '-noout'], { cwd: dir, env: { ...process.env, CA_PASS: 'wrong' } }));

    // The SSH key is a real OpenSSH key: ssh-keygen derives the same public key from it.
    const derived = await exec('ssh-keygen', ['-y', '-f', path.join(dir, 'ssh/nixinfra')]);
    const pub = await readFile(path.join(dir, 'ssh/nixinfra.pub'), 'utf8');
    assert.equal(derived.stdout.trim().split(' ').slice(0, 2).join(' '), pub.trim().split(' ').slice(0, 2).join(' '));
    assert.match(pub, /^ssh-ed25519 \S+ ops@example\.com\n$/);

    // The key name came from the flag; the next command needs it, so it is in .env (0600).
    assert.match(await readFile(path.join(dir, '.env'), 'utf8'), /^SSH_KEY=nixinfra$/m);
    assert.equal((await stat(path.join(dir, '.env'))).mode & 0o777, 0o600);
    assert.doesNotMatch(await readFile(path.join(dir, '.env'), 'utf8'), /PASS/, 'passwords from the environment are not copied');

    const before = await snapshot(dir);
    // No passwords this time: nothing needs creating, so nothing may be asked for.
    const second = await runCli(initArgs(dir));
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(await snapshot(dir), before);
  });

  it('never overwrites an existing file, and keeps an existing SSH key', async (t) => {
    const dir = await tempDir(t);
    await writeFile(path.join(dir, '.gitignore'), 'mine\n');
    const result = await runCli([...initArgs(dir), '--no-cert-auth'], { env: {} });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readFile(path.join(dir, '.gitignore'), 'utf8'), 'mine\n');
    await assert.rejects(stat(path.join(dir, 'ca')), 'no CA with --no-cert-auth');
  });

  it('in batch mode a missing CA password is exit 2 naming the variable, and nothing is written', async (t) => {
    const dir = await tempDir(t);
    const result = await runCli(initArgs(dir), { env: { INTERMEDIATE_CA_PASS: 'x', CERT_EMAIL: 'ops@example.com' } });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /CA_PASS/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
    assert.deepEqual(await readdir(dir), []);
  });

  it('in batch mode a missing SSH key name is exit 2 naming --ssh-key and SSH_KEY', async (t) => {
    const dir = await tempDir(t);
    const result = await runCli(['init', '-d', dir, '--batch', '--no-cert-auth']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--ssh-key/);
    assert.match(result.stderr, /SSH_KEY/);
    assert.deepEqual(await readdir(dir), []);
  });

  it('takes SSH_KEY and SSH_EMAIL from the project .env, and makes RSA keys on request', async (t) => {
    const dir = await tempDir(t);
    await writeFile(path.join(dir, '.env'), 'SSH_KEY=fromenv\nSSH_EMAIL=env@example.com\n');
    const result = await runCli(['init', '-d', dir, '--batch', '--no-cert-auth', '--ssh-key-type', 'rsa']);
    assert.equal(result.code, 0, result.stderr);
    const pub = await readFile(path.join(dir, 'ssh/fromenv.pub'), 'utf8');
    assert.match(pub, /^ssh-rsa \S+ env@example\.com\n$/);
    assert.equal(await readFile(path.join(dir, '.env'), 'utf8'), 'SSH_KEY=fromenv\nSSH_EMAIL=env@example.com\n', 'an .env that has the values is left as it is');
    const bits = await exec('ssh-keygen', ['-l', '-f', path.join(dir, 'ssh/fromenv')]);
    assert.match(bits.stdout, /^4096 /);
  });

  it('refuses a key name that would leave ssh/', async (t) => {
    const dir = await tempDir(t);
    const result = await runCli(['init', '-d', dir, '--batch', '--no-cert-auth', '--ssh-key', '../evil', '--ssh-email', 'a@b.c']);
    assert.equal(result.code, 2);
    assert.deepEqual(await readdir(dir), []);
  });
});

describe('ssh-key create', () => {
  it('creates a key pair once and keeps it on a second run', async (t) => {
    const dir = await tempDir(t);
    const first = await runCli(['ssh-key', 'create', '-d', dir, '--name', 'ops', '--email', 'ops@example.com']);
    assert.equal(first.code, 0, first.stderr);
    const key = await readFile(path.join(dir, 'ssh/ops'));
    const second = await runCli(['ssh-key', 'create', '-d', dir, '--name', 'ops', '--email', 'ops@example.com']);
    assert.equal(second.code, 0);
    assert.match(second.stdout, /exists/);
    assert.deepEqual(await readFile(path.join(dir, 'ssh/ops')), key);
  });
});
