import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { repoRoot, tempDir } from './support/repo.js';

const exec = promisify(execFile);

/** Runs the CLI on a pseudo-terminal, answering prompts in order. */
async function onTerminal(args: string[], answers: Array<[string, string | { keys: string }]>): Promise<{ exit: number; transcript: string }> {
  const spec = JSON.stringify({ argv: [process.execPath, path.join(repoRoot, 'bin', 'run.js'), ...args], answers });
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
