import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';

import { FsSecretStore } from '../src/adapters/secret-store/fs-secret-store.js';
import { StoreLockFile } from '../src/adapters/secret-store/store-lock.js';
import { OperationFailed, UserError } from '../src/domain/errors.js';
import { SecretValue } from '../src/domain/secret-value.js';
import { tempDir } from './support/repo.js';

const PASS = new SecretValue('SECRETS_PASS', 'old password');
const NEW = new SecretValue('SECRETS_NEW_PASS', 'new password');
const FAST = { waitMs: 300, pollMs: 20 };

async function newStore(t: TestContext): Promise<FsSecretStore> {
  const dir = path.join(await tempDir(t), 'secrets');
  await mkdir(dir, { mode: 0o700 });
  return new FsSecretStore(dir, { lockTiming: FAST });
}

async function rejects<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E, pattern: RegExp): Promise<E> {
  const err = await promise.then(
    () => assert.fail(`expected ${type.name} matching ${pattern}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
  assert.match(err.message, pattern);
  return err;
}

/** The pid of a process that has exited (so no process has it, for now). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid as number;
}

describe('secret files that prove nothing are refused', () => {
  test('an empty file is exit 2 naming it, in every format path', async (t) => {
    const store = await newStore(t);
    await writeFile(path.join(store.location, 'app.db'), '');
    for (const options of [{}, { allowLegacy: true }]) {
      const err = await rejects(store.read('app.db', PASS, options), UserError, /^secrets\/app\.db is empty; an empty file is never used as a secret$/);
      assert.equal(err.exitCode, 2);
    }
  });

  test('a planted base64 file is refused with the way to import it; the v1 file next to it reads', async (t) => {
    const store = await newStore(t);
    await store.write(new SecretValue('real', 'v'), PASS);
    await writeFile(path.join(store.location, 'app.db'), `${Buffer.from('attacker').toString('base64')}\n`);
    const err = await rejects(store.read('app.db', PASS), UserError, /secrets\/app\.db is in the Dart tool's legacy format/);
    assert.equal(err.exitCode, 2);
    assert.ok(err.hints.some((h) => h.includes('nix-infra secrets import --name app.db')));
    assert.ok(err.hints.some((h) => h.includes('--allow-legacy-secrets')));
    assert.equal((await store.read('real', PASS)).revealText(), 'v');
  });
});

describe('the store lock', () => {
  test('a second holder waits, then is told who holds it; release frees it', async (t) => {
    const store = await newStore(t);
    const held = await store.lock('secrets rekey');
    const err = await rejects(store.lock('secrets store'), OperationFailed, new RegExp(`is locked by secrets rekey \\(pid ${process.pid} on `));
    assert.equal(err.exitCode, 1);
    await held.release();
    await (await store.lock('secrets store')).release();
    assert.deepEqual(await readdir(store.location), [], 'no lock file or temp file left');
  });

  test('a lock left by a process that died is taken over; one from another host is not', async (t) => {
    const store = await newStore(t);
    const lockFile = path.join(store.location, '.lock');
    const stale = { pid: await deadPid(), host: hostname(), purpose: 'secrets rekey', since: '2026-01-01T00:00:00Z', token: 'dead' };
    await writeFile(lockFile, JSON.stringify(stale));
    const taken = await store.lock('secrets store');
    assert.match(await readFile(lockFile, 'utf8'), new RegExp(`"pid":${process.pid}`));
    await taken.release();

    await writeFile(lockFile, JSON.stringify({ ...stale, host: 'elsewhere.example' }));
    await rejects(new StoreLockFile(store.location, FAST).acquire('deploy'), OperationFailed, /locked by secrets rekey \(pid \d+ on elsewhere\.example/);
  });

  test('without a secrets folder a reader locks nothing and creates nothing', async (t) => {
    const dir = path.join(await tempDir(t), 'secrets');
    await (await new FsSecretStore(dir).lock('deploy')).release();
    await assert.rejects(readdir(dir));
  });
});

describe('the rekey switch', () => {
  async function storeWith(t: TestContext, names: string[]): Promise<FsSecretStore> {
    const store = await newStore(t);
    for (const name of names) await store.write(new SecretValue(name, `value of ${name}`), PASS);
    return store;
  }

  test('staged but not committed: the old files are the store; recovery rolls back', async (t) => {
    const store = await storeWith(t, ['a', 'b']);
    await mkdir(path.join(store.location, '.rekey'));
    await writeFile(path.join(store.location, '.rekey', 'a'), 'half');
    assert.equal(await store.pendingRekey(), 'staged');
    await rejects(store.write(new SecretValue('c', 'x'), PASS), UserError, /an interrupted `secrets rekey` is pending/);
    assert.equal((await store.read('a', PASS)).revealText(), 'value of a');
    assert.equal(await store.recoverRekey(), 'rolled-back');
    assert.equal(await store.pendingRekey(), undefined);
    assert.deepEqual((await readdir(store.location)).sort(), ['a', 'b']);
  });

  test('committed: reads see the new files before they are moved; recovery finishes', async (t) => {
    const store = await storeWith(t, ['a', 'b']);
    // What a crash right after the switch leaves: every new file staged, the journal in place.
    const other = await storeWith(t, ['a', 'b']);
    await other.replaceAll([new SecretValue('a', 'new a'), new SecretValue('b', 'new b')], NEW);
    await mkdir(path.join(store.location, '.rekey'));
    for (const name of ['a', 'b']) await writeFile(path.join(store.location, '.rekey', name), await readFile(path.join(other.location, name)));
    await writeFile(path.join(store.location, '.rekey-journal'), `${JSON.stringify({ format: 'nix-infra-rekey v1', names: ['a', 'b'] })}\n`);
    assert.equal(await store.pendingRekey(), 'committed');
    for (const name of ['a', 'b']) {
      assert.equal((await store.read(name, NEW)).revealText(), `new ${name}`);
      await rejects(store.read(name, PASS), UserError, /wrong password/);
    }
    assert.equal(await store.recoverRekey(), 'finished');
    assert.deepEqual((await readdir(store.location)).sort(), ['a', 'b']);
    assert.equal((await store.read('b', NEW)).revealText(), 'new b');
  });

  test('a journal naming a path outside the store is refused, nothing moves', async (t) => {
    const store = await storeWith(t, ['a']);
    await mkdir(path.join(store.location, '.rekey'));
    await writeFile(path.join(store.location, '.rekey-journal'), JSON.stringify({ format: 'nix-infra-rekey v1', names: ['../escape'] }));
    const before = await readFile(path.join(store.location, 'a'));
    await rejects(store.recoverRekey(), UserError, /is not a re-key journal nix-infra wrote/);
    await rejects(store.read('a', PASS), UserError, /is not a re-key journal nix-infra wrote/);
    assert.deepEqual(await readFile(path.join(store.location, 'a')), before);
    assert.deepEqual((await readdir(path.dirname(store.location))).sort(), ['secrets']);
  });
});
