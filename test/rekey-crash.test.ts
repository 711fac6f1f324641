import assert from 'node:assert/strict';
import { cp, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';

import { FsSecretStore } from '../src/adapters/secret-store/fs-secret-store.js';
import { CRASH_AFTER_OPS_ENV } from '../src/cli/secret-store.js';
import { UserError } from '../src/domain/errors.js';
import { SecretValue } from '../src/domain/secret-value.js';
import { runCli } from './support/cli.js';
import { tempDir } from './support/repo.js';

const OLD = new SecretValue('SECRETS_PASS', 'the old password');
const NEW = new SecretValue('SECRETS_NEW_PASS', 'the new password');
const NAMES = ['api.token', 'db.password', 'db.url', 'netrc'];
const env = { SECRETS_PASS: OLD.revealText(), SECRETS_NEW_PASS: NEW.revealText() };

/**
 * The one password every secret of the store decrypts with, as nix-infra reads the store (an
 * unfinished switch included); fails when the store is split or a value is wrong. A v1 file that
 * opens with one password fails the other's check value, so one password per file is tried
 * beyond the first file's two.
 */
async function storePassword(secrets: string): Promise<'old' | 'new'> {
  const store = new FsSecretStore(secrets);
  const opensWith = async (name: string, password: SecretValue): Promise<boolean> => {
    try {
      assert.equal((await store.read(name, password)).revealText(), `value of ${name}`);
      return true;
    } catch (err) {
      assert.ok(err instanceof UserError && /wrong password/.test(err.message), `${name}: ${String(err)}`);
      return false;
    }
  };
  const [first, ...rest] = NAMES as [string, ...string[]];
  const label = (await opensWith(first, OLD)) ? 'old' : (await opensWith(first, NEW)) ? 'new' : assert.fail(`${first} opens with neither password`);
  for (const name of rest) assert.ok(await opensWith(name, label === 'old' ? OLD : NEW), `store split: ${first} is under the ${label} password, ${name} is not`);
  return label;
}

describe('secrets rekey survives SIGKILL at every file operation', () => {
  it('after each kill the store is under exactly one password; a rerun finishes or rolls back and completes', { timeout: 1_200_000 }, async (t) => {
    const base = await tempDir(t, 'nix-infra-rekey-crash-');
    const template = path.join(base, 'template', 'secrets');
    await mkdir(template, { recursive: true, mode: 0o700 });
    const templateStore = new FsSecretStore(template);
    for (const name of NAMES) await templateStore.write(new SecretValue(name, `value of ${name}`), OLD);

    const killedAt: number[] = [];
    const seen = { old: 0, new: 0, staged: 0, committed: 0 };
    for (let k = 1; ; k++) {
      const dir = path.join(base, `run-${k}`);
      await cp(template, path.join(dir, 'secrets'), { recursive: true });
      const secrets = path.join(dir, 'secrets');
      const crashed = await runCli(['secrets', 'rekey', '-d', dir, '--batch', '--json'], { env: { ...env, [CRASH_AFTER_OPS_ENV]: String(k) } });
      if (crashed.code === 0) {
        // k is past the last operation: the rekey ran to its end.
        assert.deepEqual(JSON.parse(crashed.stdout), { rekeyed: NAMES, migrated: [] });
        assert.equal(await storePassword(secrets), 'new');
        break;
      }
      assert.equal(crashed.code, null, `run ${k} was killed by its signal, not failed: ${crashed.stderr}`);
      killedAt.push(k);
      const under = await storePassword(secrets);
      seen[under] += 1;

      const pending = await new FsSecretStore(secrets).pendingRekey();
      // Once per kind of pending state (each CLI run costs scrypt time).
      if (pending !== undefined && seen[pending]++ === 0) {
        // Meanwhile nothing else uses the store: it says what to run.
        const store = await runCli(['secrets', 'store', '-d', dir, '--name', 'other', '--batch'], { env: { SECRETS_PASS: OLD.revealText() }, input: 'x' });
        assert.equal(store.code, 2, store.stderr);
        assert.match(store.stderr, /an interrupted `secrets rekey` is pending/);
        assert.match(store.stderr, /run `nix-infra secrets rekey`/);
      }

      const rerun = await runCli(['secrets', 'rekey', '-d', dir, '--batch', '--json'], { env });
      assert.equal(rerun.code, 0, `rerun after a kill at ${k}: ${rerun.stderr}`);
      const result = JSON.parse(rerun.stdout) as { recovered?: string; alreadyDone?: boolean; rekeyed: string[] };
      if (pending === 'committed') assert.equal(result.recovered, 'finished', `kill at ${k}`);
      else if (pending === 'staged') assert.deepEqual([result.recovered, result.rekeyed], ['rolled-back', NAMES], `kill at ${k}`);
      else if (under === 'new') assert.equal(result.alreadyDone, true, `kill at ${k}`);
      else assert.deepEqual(result.rekeyed, NAMES, `kill at ${k}`);
      assert.equal(await storePassword(secrets), 'new', `after the rerun at ${k}`);
      assert.deepEqual((await readdir(secrets)).sort(), NAMES, `no staging folder, journal or lock left at ${k}`);
    }
    t.diagnostic(`killed at ${killedAt.length} points (operations 1..${killedAt.length}); store under old: ${seen.old}, new: ${seen.new}; pending staged: ${seen.staged}, committed: ${seen.committed}`);
    assert.ok(killedAt.length >= 20, `only ${killedAt.length} kill points`);
    assert.ok(seen.staged > 0 && seen.committed > 0, 'kills landed both before and after the switch');
  });
});
