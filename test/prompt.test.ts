import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { FsSecretStore } from '../src/adapters/secret-store/fs-secret-store.js';
import { SecretValue } from '../src/domain/secret-value.js';
import { repoRoot, tempDir } from './support/repo.js';

const exec = promisify(execFile);

/** Runs the CLI on a pseudo-terminal, answering prompts in order. */
async function onTerminal(args: string[], answers: Array<[string, string | { keys: string }]>, wait = 60): Promise<{ exit: number; transcript: string }> {
  // Generous waits: creating a CA on a busy CI machine takes many seconds; nothing here is timed.
  const spec = JSON.stringify({ argv: [process.execPath, path.join(repoRoot, 'bin', 'run.js'), ...args], answers, timeout: wait });
  const { stdout } = await exec('python3', [path.join(repoRoot, 'test', 'support', 'pty_run.py'), spec], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', TERM: 'dumb' },
  });
  return JSON.parse(stdout) as { exit: number; transcript: string };
}

describe('prompts on a terminal', () => {
  it('asks twice for the first secrets password, hides it, and refuses two different answers', async (t) => {
    const dir = await tempDir(t);
    const args = ['secrets', 'store', '-d', dir, '--name', 'x', '--secret-file', path.join(repoRoot, 'package.json')];

    const mismatch = await onTerminal(args, [['Enter secrets password', 'first-typed'], ['Repeat secrets password', 'second-typed']]);
    assert.equal(mismatch.exit, 2);
    assert.match(mismatch.transcript, /entries differ/);
    assert.ok(!mismatch.transcript.includes('first-typed'), 'input is not echoed');
    await assert.rejects(readdir(path.join(dir, 'secrets')), 'nothing was written');

    const ok = await onTerminal(args, [['Enter secrets password', 'pw-123'], ['Repeat secrets password', 'pw-123']]);
    assert.equal(ok.exit, 0, ok.transcript);
    assert.ok(!ok.transcript.includes('pw-123'), 'input is not echoed');
    assert.deepEqual(await readdir(path.join(dir, 'secrets')), ['x']);

    // Once the store has a password, it is asked once and checked against the stored secret.
    const wrong = await onTerminal([...args.slice(0, 5), 'y', ...args.slice(6)], [['Enter secrets password', 'not-it']]);
    assert.equal(wrong.exit, 2);
    assert.match(wrong.transcript, /wrong password/);
  });

  it('interactive init saves what it asked in .env (0600), passwords only when agreed, and prints the next steps', async (t) => {
    const answers = (save: string): Array<[string, string]> => [
      ['[y/N]', 'y'],
      ['Enter ssh key name', 'mykey'],
      ['Enter ssh key e-mail', 'me@example.com'],
      ['Enter certificate e-mail', 'ca@example.com'],
      ['Enter CA root password', 'root-pw-1'],
      ['Repeat CA root password', 'root-pw-1'],
      ['Enter CA intermediate password', 'mid-pw-2'],
      ['Repeat CA intermediate password', 'mid-pw-2'],
      ['Save CA_PASS and INTERMEDIATE_CA_PASS', save],
    ];
    const kept = await tempDir(t);
    // Two 4096-bit CA keys are made after the last answer: read until init exits, however long that takes here.
    const yes = await onTerminal(['init', '-d', kept], answers('y'), 300);
    assert.equal(yes.exit, 0, yes.transcript);
    assert.ok(!yes.transcript.includes('root-pw-1') && !yes.transcript.includes('mid-pw-2'), 'passwords are not echoed');
    assert.equal((await stat(path.join(kept, '.env'))).mode & 0o777, 0o600);
    const env = await readFile(path.join(kept, '.env'), 'utf8');
    for (const line of ['SSH_KEY=mykey', 'SSH_EMAIL=me@example.com', 'CERT_EMAIL=ca@example.com', 'CA_PASS=root-pw-1', 'INTERMEDIATE_CA_PASS=mid-pw-2']) {
      assert.ok(env.split('\n').includes(line), `${line} in .env:\n${env}`);
    }
    assert.match(yes.transcript, /Next steps:[\s\S]*nix-infra cluster provision -d \S+ --node-names[\s\S]*cluster init-ctrl/);

    // Declined: everything but the passwords is saved, and the operator is told what was not.
    const declined = await tempDir(t);
    const no = await onTerminal(['init', '-d', declined], answers('n'), 300);
    assert.equal(no.exit, 0, no.transcript);
    const envNo = await readFile(path.join(declined, '.env'), 'utf8');
    assert.match(envNo, /^SSH_KEY=mykey$/m);
    assert.doesNotMatch(envNo, /PASS/);
    assert.match(no.transcript, /Not saved: CA_PASS, INTERMEDIATE_CA_PASS/);
  });

  it('secrets store on a terminal without --secret asks for the value, hidden and twice, then stores it', async (t) => {
    const dir = await tempDir(t);
    const result = await onTerminal(
      ['secrets', 'store', '-d', dir, '--name', 'api.token'],
      [
        ['Enter value of secret api.token', 'tok-5678'],
        ['Repeat value of secret api.token', 'tok-5678'],
        ['Enter secrets password', 'pw-9'],
        ['Repeat secrets password', 'pw-9'],
      ],
    );
    assert.equal(result.exit, 0, result.transcript);
    assert.ok(!result.transcript.includes('tok-5678'), 'the value is not echoed');
    const store = new FsSecretStore(path.join(dir, 'secrets'));
    assert.equal((await store.read('api.token', new SecretValue('SECRETS_PASS', 'pw-9'))).revealText(), 'tok-5678');
  });

  it('a confirmation answered with anything but yes aborts with exit 1 and changes nothing', async (t) => {
    const dir = await tempDir(t);
    const result = await onTerminal(['init', '-d', dir, '--no-cert-auth', '--ssh-key', 'k', '--ssh-email', 'a@b.c'], [['[y/N]', 'n']]);
    assert.equal(result.exit, 1);
    assert.match(result.transcript, /aborted/);
    assert.deepEqual(await readdir(dir), []);
  });

  it('Ctrl-C at a prompt exits 130 with one line, not as a bug, and changes nothing', async (t) => {
    const dir = await tempDir(t);
    const confirm = await onTerminal(['init', '-d', dir, '--no-cert-auth', '--ssh-key', 'k', '--ssh-email', 'a@b.c'], [['[y/N]', { keys: '\u0003' }]]);
    assert.equal(confirm.exit, 130, confirm.transcript);
    assert.match(confirm.transcript, /^Error: interrupted\r?$/m);
    assert.doesNotMatch(confirm.transcript, /bug|Aborted with Ctrl\+C/);
    assert.deepEqual(await readdir(dir), []);

    const hidden = await onTerminal(['secrets', 'store', '-d', dir, '--name', 'x', '--secret-file', path.join(repoRoot, 'package.json')], [['Enter secrets password', { keys: '\u0003' }]]);
    assert.equal(hidden.exit, 130, hidden.transcript);
    assert.match(hidden.transcript, /^Error: interrupted\r?$/m);
    await assert.rejects(readdir(path.join(dir, 'secrets')), 'nothing was written');
  });
});
