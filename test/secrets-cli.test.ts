import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { runCli } from './support/cli.js';
import { tempDir } from './support/repo.js';

const exec = promisify(execFile);
const PASS = { SECRETS_PASS: 'correct horse battery staple' };

async function project(t: Parameters<typeof tempDir>[0]): Promise<string> {
  return tempDir(t, 'nix-infra-secrets-');
}

describe('secrets store / list / rekey through the CLI', () => {
  it('stores from stdin, --secret-file and --secret; the file holds neither the value nor its base64', async (t) => {
    const dir = await project(t);
    const value = 'postgres://app:s3cr3t-value-that-is-long@db:5432/app\n';
    const fromStdin = await runCli(['secrets', 'store', '-d', dir, '--name', 'db.url', '--batch'], { env: PASS, input: value });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.match(fromStdin.stdout, /saved: db\.url/);

    const file = path.join(dir, 'value.txt');
    await writeFile(file, 'from-a-file');
    const fromFile = await runCli(['secrets', 'store', '-d', dir, '--name', 'b', '--secret-file', file, '--batch'], { env: PASS });
    assert.equal(fromFile.code, 0, fromFile.stderr);

    const fromArgv = await runCli(['secrets', 'store', '-d', dir, '--name', 'c', '--secret', 'argv-value', '--batch'], { env: PASS });
    assert.equal(fromArgv.code, 0, fromArgv.stderr);
    assert.match(fromArgv.stderr, /warning: --secret exposes the value/);

    const stored = await readFile(path.join(dir, 'secrets', 'db.url'), 'utf8');
    assert.ok(!stored.includes('s3cr3t-value-that-is-long'));
    assert.ok(!stored.includes(Buffer.from(value).toString('base64').slice(0, 40)));
    assert.equal((await stat(path.join(dir, 'secrets', 'db.url'))).mode & 0o777, 0o600);
    assert.equal((await stat(path.join(dir, 'secrets'))).mode & 0o777, 0o700);
  });

  it('a wrong password is exit 2 and changes nothing', async (t) => {
    const dir = await project(t);
    assert.equal((await runCli(['secrets', 'store', '-d', dir, '--name', 'a', '--batch'], { env: PASS, input: 'one' })).code, 0);
    const before = await readFile(path.join(dir, 'secrets', 'a'));
    const wrong = { SECRETS_PASS: 'not the password' };
    const replace = await runCli(['secrets', 'store', '-d', dir, '--name', 'a', '--batch'], { env: wrong, input: 'two' });
    assert.equal(replace.code, 2);
    assert.match(replace.stderr, /wrong password \(SECRETS_PASS\)/);
    const other = await runCli(['secrets', 'store', '-d', dir, '--name', 'b', '--batch'], { env: wrong, input: 'two' });
    assert.equal(other.code, 2, 'a new name under another password is refused too');
    assert.deepEqual(await readFile(path.join(dir, 'secrets', 'a')), before);
    assert.deepEqual(await readdir(path.join(dir, 'secrets')), ['a']);
  });

  it('refuses names that could leave secrets/, before asking for anything', async (t) => {
    const dir = await project(t);
    for (const name of ['../x', 'a/b', '..', 'x..y']) {
      const result = await runCli(['secrets', 'store', '-d', dir, '--name', name, '--batch'], { env: PASS, input: 'v' });
      assert.equal(result.code, 2, name);
      assert.match(result.stderr, /secret name/);
    }
    assert.deepEqual(await readdir(dir), []);
  });

  it('without a password in --batch mode, says which variable to set', async (t) => {
    const dir = await project(t);
    const result = await runCli(['secrets', 'store', '-d', dir, '--name', 'a', '--batch'], { input: 'v' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /SECRETS_PASS/);
  });

  it('still accepts SECRETS_PWD, with a deprecation warning on stderr', async (t) => {
    const dir = await project(t);
    const result = await runCli(['secrets', 'store', '-d', dir, '--name', 'a', '--batch'], { env: { SECRETS_PWD: 'old-name' }, input: 'v' });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /SECRETS_PWD is deprecated, use SECRETS_PASS/);
    assert.doesNotMatch(result.stdout, /deprecated/);
  });

  it('the flat alias store-secret takes the original --store-as-secret flag', async (t) => {
    const dir = await project(t);
    const result = await runCli(['store-secret', '-d', dir, '--store-as-secret=legacy.name', '--batch'], { env: PASS, input: 'v' });
    assert.equal(result.code, 0, result.stderr);
    await stat(path.join(dir, 'secrets', 'legacy.name'));
  });

  it('list --json gives names, formats and times, never values', async (t) => {
    const dir = await project(t);
    await runCli(['secrets', 'store', '-d', dir, '--name', 'z.token', '--batch'], { env: PASS, input: 'the-value-itself' });
    await mkdir(path.join(dir, 'secrets'), { recursive: true });
    // An upstream file: `openssl enc -pbkdf2 -a` without a cipher only base64-encodes.
    await exec('sh', ['-c', `printf 'legacy-value' | openssl enc -pbkdf2 -a -pass env:P -out ${path.join(dir, 'secrets', 'a.legacy')}`], { env: { ...process.env, P: 'x' } });
    const result = await runCli(['secrets', 'list', '-d', dir, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!result.stdout.includes('the-value-itself'));
    const listing = JSON.parse(result.stdout) as { secrets: Array<{ name: string; format: string; modified: string }> };
    assert.deepEqual(listing.secrets.map((s) => [s.name, s.format]), [['a.legacy', 'legacy-base64'], ['z.token', 'v1']]);
    assert.ok(!Number.isNaN(Date.parse(listing.secrets[0]?.modified ?? '')));
  });

  it('rekey re-encrypts everything under the new password and migrates upstream files', async (t) => {
    const dir = await project(t);
    await runCli(['secrets', 'store', '-d', dir, '--name', 'a', '--batch'], { env: PASS, input: 'value-a' });
    await exec('sh', ['-c', `printf 'legacy-b\\n' | openssl enc -pbkdf2 -a -pass env:P -out ${path.join(dir, 'secrets', 'b')}`], { env: { ...process.env, P: 'x' } });

    const wrongOld = await runCli(['secrets', 'rekey', '-d', dir, '--batch'], { env: { SECRETS_PASS: 'nope', SECRETS_NEW_PASS: 'new-pass' } });
    assert.equal(wrongOld.code, 2, 'a wrong old password stops before any write');
    assert.equal((JSON.parse((await runCli(['secrets', 'list', '-d', dir, '--json'])).stdout) as { secrets: Array<{ format: string }> }).secrets[0]?.format, 'v1');

    const rekey = await runCli(['secrets', 'rekey', '-d', dir, '--batch', '--json'], { env: { ...PASS, SECRETS_NEW_PASS: 'new-pass' } });
    assert.equal(rekey.code, 0, rekey.stderr);
    assert.deepEqual(JSON.parse(rekey.stdout), { rekeyed: ['a', 'b'], migrated: ['b'] });

    const listing = JSON.parse((await runCli(['secrets', 'list', '-d', dir, '--json'])).stdout) as { secrets: Array<{ format: string }> };
    assert.deepEqual(listing.secrets.map((s) => s.format), ['v1', 'v1']);
    // The old password no longer opens the store; the new one does (both checked by storing).
    assert.equal((await runCli(['secrets', 'store', '-d', dir, '--name', 'c', '--batch'], { env: PASS, input: 'c' })).code, 2);
    assert.equal((await runCli(['secrets', 'store', '-d', dir, '--name', 'c', '--batch'], { env: { SECRETS_PASS: 'new-pass' }, input: 'c' })).code, 0);
  });

  it('import converts the legacy files named (or all) to v1 under SECRETS_PASS, checked against a v1 secret', async (t) => {
    const dir = await project(t);
    await runCli(['secrets', 'store', '-d', dir, '--name', 'a', '--batch'], { env: PASS, input: 'value-a' });
    for (const name of ['b', 'c']) await writeFile(path.join(dir, 'secrets', name), `${Buffer.from(`legacy-${name}\n`).toString('base64')}\n`);
    const formats = async () => (JSON.parse((await runCli(['secrets', 'list', '-d', dir, '--json'])).stdout) as { secrets: Array<{ name: string; format: string }> }).secrets.map((s) => `${s.name}:${s.format}`);

    const wrong = await runCli(['secrets', 'import', '-d', dir, '--batch'], { env: { SECRETS_PASS: 'nope' } });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /secrets\/a: wrong password/);
    const notLegacy = await runCli(['secrets', 'import', '-d', dir, '--name', 'a', '--batch'], { env: PASS });
    assert.equal(notLegacy.code, 2);
    assert.match(notLegacy.stderr, /secrets\/a is v1, not a legacy file/);
    assert.deepEqual(await formats(), ['a:v1', 'b:legacy-base64', 'c:legacy-base64']);

    const one = await runCli(['secrets', 'import', '-d', dir, '--name', 'b', '--batch'], { env: PASS });
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout.trim(), 'imported b (was legacy-base64)');
    assert.deepEqual(await formats(), ['a:v1', 'b:v1', 'c:legacy-base64']);
    const rest = await runCli(['secrets', 'import', '-d', dir, '--batch', '--json'], { env: PASS });
    assert.deepEqual(JSON.parse(rest.stdout), { imported: [{ name: 'c', from: 'legacy-base64' }] });
    assert.deepEqual(await formats(), ['a:v1', 'b:v1', 'c:v1']);
    assert.equal((await runCli(['secrets', 'import', '-d', dir, '--batch'], { env: PASS })).stdout.trim(), 'No legacy secret files to import.');
  });

  it('store and rekey respect a lock held by a running process; its owner is named', async (t) => {
    const dir = await project(t);
    await runCli(['secrets', 'store', '-d', dir, '--name', 'a', '--batch'], { env: PASS, input: 'value-a' });
    const holder = spawn('sleep', ['60']);
    t.after(() => holder.kill());
    const lock = { pid: holder.pid, host: hostname(), purpose: 'secrets rekey', since: new Date().toISOString(), token: 'test' };
    await writeFile(path.join(dir, 'secrets', '.lock'), JSON.stringify(lock));
    const before = await readFile(path.join(dir, 'secrets', 'a'));
    const store = await runCli(['secrets', 'store', '-d', dir, '--name', 'a', '--batch'], { env: PASS, input: 'value-b' });
    assert.equal(store.code, 1, store.stderr);
    assert.match(store.stderr, new RegExp(`secrets is locked by secrets rekey \\(pid ${holder.pid} on `));
    const rekey = await runCli(['secrets', 'rekey', '-d', dir, '--batch'], { env: { ...PASS, SECRETS_NEW_PASS: 'new' } });
    assert.equal(rekey.code, 1, rekey.stderr);
    assert.deepEqual(await readFile(path.join(dir, 'secrets', 'a')), before);
  });
});
