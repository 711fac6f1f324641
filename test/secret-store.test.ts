import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';

import { FsSecretStore } from '../src/adapters/secret-store/fs-secret-store.js';
import { upstreamLineNormalise } from '../src/adapters/secret-store/legacy-formats.js';
import { UserError } from '../src/domain/errors.js';
import { SecretValue } from '../src/domain/secret-value.js';
import { tempDir } from './support/repo.js';

const PASS = new SecretValue('SECRETS_PASS', 'correct horse battery staple');
const WRONG = new SecretValue('SECRETS_PASS', 'incorrect horse');
/** Long and distinctive, so finding it (or its base64) in a file cannot be a coincidence. */
const DISTINCTIVE = 'postgres://admin:Zq8-very-distinctive-plaintext-4f1e9c-never-on-disk@db.internal:5432/app';

async function newStore(t: TestContext): Promise<FsSecretStore> {
  return new FsSecretStore(path.join(await tempDir(t), 'secrets'));
}

function secretPath(store: FsSecretStore, name: string): string {
  return path.join(store.location, name);
}

async function expectUserError(promise: Promise<unknown>, pattern: RegExp): Promise<UserError> {
  const err = await promise.then(
    () => assert.fail(`expected a UserError matching ${pattern}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
  assert.match(err.message, pattern);
  return err;
}

/** Everything a UserError could print or serialise. */
function everythingShown(err: UserError): string {
  return [err.message, ...err.hints, String(err.stack), JSON.stringify(err), String(err.cause)].join('\n');
}

/** Rewrites one base64 field of a v1 file (0-based field index) with `change` applied to its bytes. */
async function editV1Field(file: string, index: number, change: (bytes: Buffer) => void): Promise<void> {
  const fields = (await readFile(file, 'utf8')).trimEnd().split(' ');
  const bytes = Buffer.from(fields[index] ?? '', 'base64');
  change(bytes);
  fields[index] = bytes.toString('base64');
  await writeFile(file, `${fields.join(' ')}\n`);
}

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** Runs the real openssl like upstream did: the password only in the child's environment. */
function openssl(args: string[], input: Buffer | string, password: string): Buffer {
  const run = spawnSync('openssl', args, { input, env: { ...process.env, SECRETS_PASS: password } });
  if (run.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${run.stderr.toString()}`);
  return run.stdout;
}

describe('FsSecretStore v1 round trips', () => {
  test('text with unicode keeps every byte, including the trailing newline', async (t) => {
    const store = await newStore(t);
    const text = 'pässwörd ✓ 🔑\r\nsecond line\n';
    await store.write(new SecretValue('api-token', text), PASS);
    assert.equal(await store.formatOf('api-token'), 'v1');
    const back = await store.read('api-token', PASS);
    assert.equal(back.revealText(), text);
    assert.equal(back.name, 'api-token');
  });

  test('binary bytes and the empty secret', async (t) => {
    const store = await newStore(t);
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await store.write(new SecretValue('blob.bin', binary), PASS);
    await store.write(new SecretValue('empty', ''), PASS);
    assert.deepEqual((await store.read('blob.bin', PASS)).reveal(), binary);
    assert.equal((await store.read('empty', PASS)).byteLength, 0);
  });

  test('the file holds neither the plaintext nor its base64', async (t) => {
    const store = await newStore(t);
    await store.write(new SecretValue('db-url', DISTINCTIVE), PASS);
    const onDisk = await readFile(secretPath(store, 'db-url'), 'utf8');
    assert.match(onDisk, /^nix-infra-secret v1 scrypt:N=32768,r=8,p=1 \S+ \S+ \S+ \S+\n$/);
    for (const needle of [DISTINCTIVE, Buffer.from(DISTINCTIVE).toString('base64'), 'very-distinctive']) {
      assert.ok(!onDisk.includes(needle), `file contains ${needle.slice(0, 12)}...`);
    }
    assert.ok(!onDisk.includes(PASS.revealText()));
  });

  test('two writes of the same value differ (fresh salt and IV)', async (t) => {
    const store = await newStore(t);
    await store.write(new SecretValue('a', DISTINCTIVE), PASS);
    const first = await readFile(secretPath(store, 'a'), 'utf8');
    await store.write(new SecretValue('a', DISTINCTIVE), PASS);
    assert.notEqual(await readFile(secretPath(store, 'a'), 'utf8'), first);
  });
});

describe('FsSecretStore failures', () => {
  test('a wrong password is exit 2, leaks nothing and leaves the file alone', async (t) => {
    const store = await newStore(t);
    await store.write(new SecretValue('db-url', DISTINCTIVE), PASS);
    const before = await readFile(secretPath(store, 'db-url'));
    const err = await expectUserError(store.read('db-url', WRONG), /^secrets\/db-url: wrong password \(SECRETS_PASS\)$/);
    assert.equal(err.exitCode, 2);
    for (const secret of [DISTINCTIVE, WRONG.revealText(), PASS.revealText()]) {
      assert.ok(!everythingShown(err).includes(secret));
    }
    assert.deepEqual(await readFile(secretPath(store, 'db-url')), before);
  });

  test('a flipped ciphertext or tag byte is reported as corruption, not as a wrong password', async (t) => {
    const store = await newStore(t);
    await store.write(new SecretValue('a', DISTINCTIVE), PASS);
    await editV1Field(secretPath(store, 'a'), 6, (b) => void (b[5] = (b[5] ?? 0) ^ 0x01));
    const err = await expectUserError(
      store.read('a', PASS),
      /^secrets\/a: the file is corrupted or was modified \(authentication failed\)$/,
    );
    assert.ok(!everythingShown(err).includes(DISTINCTIVE));

    await store.write(new SecretValue('b', DISTINCTIVE), PASS);
    await editV1Field(secretPath(store, 'b'), 6, (b) => void (b[b.length - 1] = (b[b.length - 1] ?? 0) ^ 0x80));
    await expectUserError(store.read('b', PASS), /authentication failed/);
  });

  test('changed header fields fail too', async (t) => {
    const store = await newStore(t);
    const flips: Array<[string, number, RegExp]> = [
      ['iv', 4, /authentication failed/], // the key is right, so GCM catches it
      ['salt', 3, /wrong password/], // another salt derives another check value
      ['check', 5, /wrong password/],
    ];
    for (const [name, index, pattern] of flips) {
      await store.write(new SecretValue(name, DISTINCTIVE), PASS);
      await editV1Field(secretPath(store, name), index, (b) => void (b[0] = (b[0] ?? 0) ^ 0x04));
      await expectUserError(store.read(name, PASS), pattern);
    }
    await store.write(new SecretValue('kdf', DISTINCTIVE), PASS);
    const file = secretPath(store, 'kdf');
    await writeFile(file, (await readFile(file, 'utf8')).replace('p=1', 'p=2'));
    // An edited KDF parameter is a modified file, not a wrong password (the right one was given).
    await expectUserError(store.read('kdf', PASS), /^secrets\/kdf: the file is corrupted or was modified \(its key derivation parameters scrypt:N=32768,r=8,p=2 are not the ones nix-infra writes\)$/);
    for (const kdf of ['N=16384,r=8,p=1', 'N=32768,r=4,p=1']) {
      await writeFile(file, (await readFile(file, 'utf8')).replace(/N=\d+,r=\d+,p=\d+/, kdf));
      const err = await expectUserError(store.read('kdf', PASS), /was modified/);
      assert.doesNotMatch(err.message, /wrong password/);
    }

    // Parses to the same N, so the key and check match: only the header-as-AAD catches it.
    await store.write(new SecretValue('zero', DISTINCTIVE), PASS);
    const zero = secretPath(store, 'zero');
    await writeFile(zero, (await readFile(zero, 'utf8')).replace('N=32768', 'N=032768'));
    await expectUserError(store.read('zero', PASS), /authentication failed/);
  });

  test('a file renamed to another secret name does not decrypt', async (t) => {
    const store = await newStore(t);
    await store.write(new SecretValue('db-password', DISTINCTIVE), PASS);
    await rename(secretPath(store, 'db-password'), secretPath(store, 'api-token'));
    assert.equal(await store.formatOf('api-token'), 'v1');
    await expectUserError(store.read('api-token', PASS), /^secrets\/api-token: the file is corrupted or was modified/);
  });

  test('unknown versions and hostile KDF parameters are refused before deriving a key', async (t) => {
    const store = await newStore(t);
    await store.write(new SecretValue('future', 'x'), PASS);
    const future = secretPath(store, 'future');
    await writeFile(future, (await readFile(future, 'utf8')).replace(' v1 ', ' v9 '));
    assert.equal(await store.formatOf('future'), 'unknown');
    await expectUserError(store.read('future', PASS), /cannot read it \(the file uses format version v9\)/);

    for (const [name, kdf, pattern] of [
      ['huge-n', 'N=1073741824,r=8,p=1', /scrypt N must be/],
      ['odd-n', 'N=32767,r=8,p=1', /power of two/],
      ['huge-mem', 'N=1048576,r=32,p=1', /256 MiB/],
      ['huge-p', 'N=32768,r=8,p=999', /scrypt p must be/],
    ] as const) {
      await store.write(new SecretValue(name, 'x'), PASS);
      const file = secretPath(store, name);
      await writeFile(file, (await readFile(file, 'utf8')).replace('N=32768,r=8,p=1', kdf));
      await expectUserError(store.read(name, PASS), pattern);
    }
  });

  test('a missing secret names the folder and how to store it', async (t) => {
    const store = await newStore(t);
    const err = await expectUserError(store.read('nope', PASS), /^secret "nope" not found in .*secrets$/);
    assert.equal(err.exitCode, 2);
    assert.ok(err.hints.some((h) => h.includes('nix-infra secrets store --name nope')));
    assert.equal(await store.formatOf('nope'), undefined);
  });

  test('an unrecognised file is named, and never overwritten', async (t) => {
    const store = await newStore(t);
    await mkdir(store.location);
    await writeFile(secretPath(store, 'notes'), 'just some text, not a secret\n');
    assert.equal(await store.formatOf('notes'), 'unknown');
    await expectUserError(store.read('notes', PASS), /secrets\/notes is not in a secret format/);
    await expectUserError(store.write(new SecretValue('notes', 'v'), PASS), /not overwriting it/);
    assert.equal(await readFile(secretPath(store, 'notes'), 'utf8'), 'just some text, not a secret\n');
  });

  test('encrypted secrets need a password; writing refuses an empty one', async (t) => {
    const store = await newStore(t);
    await store.write(new SecretValue('a', 'v'), PASS);
    await expectUserError(store.read('a', undefined), /SECRETS_PASS is needed/);
    await expectUserError(store.write(new SecretValue('b', 'v'), new SecretValue('SECRETS_PASS', '')), /empty/);
    assert.equal(await store.formatOf('b'), undefined);
  });

  test('names with path tricks are refused for read, formatOf and write', async (t) => {
    const root = await tempDir(t);
    const store = new FsSecretStore(path.join(root, 'secrets'));
    // A readable legacy file just outside the store: a traversal would return its value.
    await writeFile(path.join(root, 'x'), `${Buffer.from('outside').toString('base64')}\n`);
    for (const name of ['/', '..', '../x', '', 'a b', 'a/b', '.hidden']) {
      const shown = JSON.stringify(name).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      const pattern = new RegExp(`^invalid secret name ${shown}: a secret name `);
      const err = await expectUserError(store.read(name, undefined), pattern);
      assert.equal(err.exitCode, 2);
      await expectUserError(store.formatOf(name), pattern);
      await expectUserError(store.write(new SecretValue(name, 'v'), PASS), pattern);
    }
    await assert.rejects(stat(store.location), { code: 'ENOENT' }, 'a refused write created the folder');
  });
});

describe('FsSecretStore files on disk', () => {
  test('file mode 0600, folder created 0700', async (t) => {
    const store = await newStore(t);
    await store.write(new SecretValue('a', 'v'), PASS);
    assert.equal((await stat(store.location)).mode & 0o777, 0o700);
    assert.equal((await stat(secretPath(store, 'a'))).mode & 0o777, 0o600);
  });

  test('rotation replaces the value, also over a 0400 file, and leaves no temp files', async (t) => {
    const store = await newStore(t);
    await store.write(new SecretValue('a', 'old'), PASS);
    await store.write(new SecretValue('a', 'new'), PASS);
    assert.equal((await store.read('a', PASS)).revealText(), 'new');

    await chmod(secretPath(store, 'a'), 0o400); // how upstream left its files
    await store.write(new SecretValue('a', 'newer'), PASS);
    assert.equal((await store.read('a', PASS)).revealText(), 'newer');
    assert.equal((await stat(secretPath(store, 'a'))).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(store.location), ['a']);
  });

  test('a write that fails after the temp file exists removes it and keeps the old value', async (t) => {
    class FailingCommit extends FsSecretStore {
      protected override async commit(): Promise<void> {
        throw Object.assign(new Error('EIO: simulated failure, rename'), { code: 'EIO' });
      }
    }
    const store = new FailingCommit(path.join(await tempDir(t), 'secrets'));
    await new FsSecretStore(store.location).write(new SecretValue('a', 'old'), PASS);
    const err = await expectUserError(store.write(new SecretValue('a', DISTINCTIVE), PASS), /could not write secrets\/a/);
    assert.equal(err.exitCode, 1);
    assert.ok(!everythingShown(err).includes(DISTINCTIVE));
    assert.deepEqual(await readdir(store.location), ['a']);
    assert.equal((await store.read('a', PASS)).revealText(), 'old');
  });

  test('a read-only folder fails the write cleanly (non-root only)', async (t) => {
    if (process.getuid?.() === 0) return t.skip('root ignores folder permissions');
    const store = await newStore(t);
    await store.write(new SecretValue('a', 'old'), PASS);
    await chmod(store.location, 0o500);
    try {
      await expectUserError(store.write(new SecretValue('a', 'new'), PASS), /could not write secrets\/a/);
      assert.deepEqual(await readdir(store.location), ['a']);
    } finally {
      await chmod(store.location, 0o700); // before tempDir's cleanup (after-hooks run in order)
    }
    assert.equal((await store.read('a', PASS)).revealText(), 'old');
  });

  test('list() is sorted, reports formats, mtimes and sizes, and skips temp files and folders', async (t) => {
    const store = await newStore(t);
    assert.deepEqual(await store.list(), []); // no folder yet
    await store.write(new SecretValue('zeta', 'z'), PASS);
    await store.write(new SecretValue('Alpha', 'a'), PASS);
    await writeFile(secretPath(store, 'legacy'), `${Buffer.from('value').toString('base64')}\n`);
    await writeFile(secretPath(store, 'salted'), `${Buffer.from('Salted__12345678AAAAAAAAAAAAAAAA').toString('base64')}\n`);
    await writeFile(secretPath(store, 'odd name'), 'dmFsdWUK\n');
    await writeFile(secretPath(store, '.zeta.0123.tmp'), 'partial');
    await mkdir(secretPath(store, 'subdir'));
    const when = new Date('2024-02-03T04:05:06Z');
    await utimes(secretPath(store, 'legacy'), when, when);

    const entries = await store.list();
    assert.deepEqual(
      entries.map((e) => [e.name, e.format]),
      [
        ['Alpha', 'v1'],
        ['legacy', 'legacy-base64'],
        ['odd name', 'unknown'],
        ['salted', 'legacy-openssl'],
        ['zeta', 'v1'],
      ],
    );
    const legacy = entries.find((e) => e.name === 'legacy');
    assert.equal(legacy?.modified.getTime(), when.getTime());
    assert.equal(legacy?.sizeBytes, 9);
  });
});

describe('upstream files, made with the real openssl', { skip: hasOpenssl ? false : 'openssl not installed' }, () => {
  test('legacy base64 (openssl enc -pbkdf2 -a, no cipher) reads without a password, normalised', async (t) => {
    const store = await newStore(t);
    await mkdir(store.location, { mode: 0o700 });
    const long = `${DISTINCTIVE}\r\n${DISTINCTIVE}\rend\n`; // > 48 bytes: several 64-char lines
    const cases: Array<[string, string, string]> = [
      ['simple', 'value\n', 'value'],
      ['multi', long, `${DISTINCTIVE}\n${DISTINCTIVE}\nend`],
      ['blank-lines', 'a\n\n', 'a\n'],
    ];
    for (const [name, input, expected] of cases) {
      const out = openssl(['enc', '-pbkdf2', '-a', '-pass', 'env:SECRETS_PASS', '-out', secretPath(store, name)], input, 'pw');
      assert.equal(out.length, 0);
      assert.equal(await store.formatOf(name), 'legacy-base64');
      // Read only when asked for: a planted base64 file needs no password.
      const refused = await expectUserError(store.read(name, PASS), /legacy format \(only base64, not encrypted\); it is not used without an explicit import/);
      assert.equal(refused.exitCode, 2);
      assert.ok(refused.hints.some((h) => h.includes(`secrets import --name ${name}`)));
      assert.equal((await store.read(name, undefined, { allowLegacy: true })).revealText(), expected);
      // upstream ignored the password for these files, so any password reads them
      assert.equal((await store.read(name, WRONG, { allowLegacy: true })).revealText(), expected);
    }
    assert.ok((await readFile(secretPath(store, 'multi'), 'utf8')).trimEnd().includes('\n'));
  });

  test('legacy openssl aes-256-cbc: detected without a password, decrypted with one', async (t) => {
    const store = await newStore(t);
    await mkdir(store.location, { mode: 0o700 });
    const file = secretPath(store, 'cbc');
    const encrypt = ['enc', '-aes-256-cbc', '-pbkdf2', '-a', '-pass', 'env:SECRETS_PASS', '-out', file];
    // CBC has no authentication: about 1 salt in 256 lets a wrong password pass the padding
    // check. Let openssl itself decide that WRONG fails for this file's salt.
    for (let attempt = 0; ; attempt++) {
      openssl(encrypt, `${DISTINCTIVE}\r\n`, PASS.revealText());
      const probe = spawnSync('openssl', ['enc', '-d', '-aes-256-cbc', '-pbkdf2', '-a', '-pass', 'env:SECRETS_PASS', '-in', file], {
        env: { ...process.env, SECRETS_PASS: WRONG.revealText() },
      });
      if (probe.status !== 0) break;
      assert.ok(attempt < 10, 'openssl never rejected the wrong password');
    }
    assert.equal(await store.formatOf('cbc'), 'legacy-openssl');
    assert.equal((await store.list())[0]?.format, 'legacy-openssl');
    await expectUserError(store.read('cbc', PASS), /legacy format \(OpenSSL CBC, not authenticated\)/);
    const legacy = { allowLegacy: true };
    assert.equal((await store.read('cbc', PASS, legacy)).revealText(), DISTINCTIVE);
    await expectUserError(store.read('cbc', undefined, legacy), /SECRETS_PASS is needed/);
    const err = await expectUserError(store.read('cbc', WRONG, legacy), /^secrets\/cbc: wrong password \(SECRETS_PASS\)$/);
    assert.equal(err.exitCode, 2);
  });

  test('storing over a legacy file migrates it to v1', async (t) => {
    const store = await newStore(t);
    await mkdir(store.location, { mode: 0o700 });
    openssl(['enc', '-pbkdf2', '-a', '-pass', 'env:SECRETS_PASS', '-out', secretPath(store, 'm')], 'value\n', 'pw');
    await chmod(secretPath(store, 'm'), 0o400);
    const value = await store.read('m', undefined, { allowLegacy: true });
    await store.write(value, PASS);
    assert.equal(await store.formatOf('m'), 'v1');
    assert.equal((await store.read('m', PASS)).revealText(), 'value');
  });
});

test('upstream line normalisation matches Dart LineSplitter + join("\\n")', () => {
  const cases: Array<[string, string]> = [
    ['', ''],
    ['\n', ''],
    ['a', 'a'],
    ['a\n', 'a'],
    ['a\n\n', 'a\n'],
    ['a\r\nb\r\n', 'a\nb'],
    ['a\rb\r', 'a\nb'],
    ['a\r\r\nb', 'a\n\nb'],
  ];
  for (const [input, expected] of cases) {
    assert.equal(upstreamLineNormalise(Buffer.from(input)).toString(), expected, JSON.stringify(input));
  }
});
