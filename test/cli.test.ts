import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from './support/cli.js';
import { repoRoot, tempDir } from './support/repo.js';

interface ManifestCommand {
  id: string;
  summary?: string;
  description?: string;
  examples?: unknown[];
  aliases?: string[];
}

async function manifestCommands(): Promise<ManifestCommand[]> {
  const manifest = JSON.parse(await readFile(path.join(repoRoot, 'oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, ManifestCommand>;
  };
  return Object.values(manifest.commands);
}

describe('CLI surface', () => {
  it('--help lists every topic that has commands, and the top-level commands', async () => {
    const { code, stdout } = await runCli(['--help']);
    assert.equal(code, 0);
    const topics = new Set((await manifestCommands()).filter((c) => c.id.includes(':')).map((c) => c.id.split(':')[0]));
    assert.ok(topics.size >= 3, 'expected at least the secrets, servers and ssh-key topics');
    const topicSection = stdout.split('TOPICS')[1]?.split('COMMANDS')[0] ?? '';
    for (const topic of topics) assert.match(topicSection, new RegExp(`^\\s+${topic}\\s`, 'm'), `topic ${topic}`);
    assert.match(stdout, /^\s+init\s/m);
  });

  it('every command has a summary, a description and examples', async () => {
    const commands = await manifestCommands();
    assert.ok(commands.length >= 6);
    for (const command of commands) {
      assert.ok((command.summary ?? '').length > 10, `${command.id}: summary`);
      assert.ok((command.description ?? '').length > 20, `${command.id}: description`);
      assert.ok((command.examples ?? []).length > 0, `${command.id}: examples`);
    }
  });

  it('--version answers with name, version and platform', async () => {
    const { code, stdout } = await runCli(['--version']);
    assert.equal(code, 0);
    assert.match(stdout, /^nix-infra\/\d+\.\d+\.\d+ \S+ node-v\d+/);
  });

  it('usage errors exit 64 without a stack trace', async () => {
    for (const args of [['no-such-command'], ['ssh-key', 'create', '--email', 'a@b.c'], ['servers', 'list', '--no-such-flag']]) {
      const { code, stderr } = await runCli(args);
      assert.equal(code, 64, `${args.join(' ')}: ${stderr}`);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('a missing working directory is invalid input (exit 2) naming the folder', async (t) => {
    const dir = await tempDir(t);
    const missing = path.join(dir, 'nope');
    const { code, stderr } = await runCli(['servers', 'list', '-d', missing]);
    assert.equal(code, 2);
    assert.ok(stderr.includes(missing));
    assert.doesNotMatch(stderr, /\n\s+at /);
  });

  it('an explicit --env that does not exist is an error; a relative one is found in the working dir', async (t) => {
    const dir = await tempDir(t);
    const missing = await runCli(['secrets', 'list', '-d', dir, '--env', 'missing.env']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--env: file not found/);
  });

  it('--debug shows the stack of a user error; without it there is none', async (t) => {
    const dir = await tempDir(t);
    const plain = await runCli(['servers', 'list', '-d', dir]);
    const debug = await runCli(['servers', 'list', '-d', dir, '--debug']);
    assert.equal(plain.code, 2);
    assert.equal(debug.code, 2);
    assert.doesNotMatch(plain.stderr, /\n\s+at /);
    assert.match(debug.stderr, /\n\s+at /);
  });
});
