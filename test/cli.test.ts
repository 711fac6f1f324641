import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Config } from '@oclif/core';
import ReflowingHelp from '../src/ui/help.js';
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

  it('`help`, `-h` and `--help` are the same help, for the root and for a command', async () => {
    const root = await runCli(['--help']);
    for (const args of [['help'], ['-h']]) {
      const other = await runCli(args);
      assert.equal(other.code, 0, `${args.join(' ')}: ${other.stderr}`);
      assert.equal(other.stdout, root.stdout, args.join(' '));
    }
    const command = await runCli(['cluster', 'deploy-apps', '--help']);
    assert.match(command.stdout, /^USAGE\n\s+\$ nix-infra cluster deploy-apps /m);
    for (const args of [['help', 'cluster', 'deploy-apps'], ['cluster', 'deploy-apps', '-h']]) {
      const other = await runCli(args);
      assert.equal(other.code, 0, `${args.join(' ')}: ${other.stderr}`);
      assert.equal(other.stdout, command.stdout, args.join(' '));
    }
  });

  it('a mistyped command is a usage error with a guess and the help to read', async () => {
    const cases: Array<[string[], string | undefined, string]> = [
      [['deplyo', '--target', 'node001'], 'nix-infra deploy', 'nix-infra help'],
      [['sercrets', 'list'], 'nix-infra secrets list', 'nix-infra help'],
      [['fleet', 'provison'], 'nix-infra fleet provision', 'nix-infra help fleet'],
      [['help', 'cluster', 'deploy'], 'nix-infra cluster deploy-apps', 'nix-infra help cluster'],
      // Three edits in a six-letter word: no guess rather than `cluster destroy`.
      [['cluster', 'deplyo'], undefined, 'nix-infra help cluster'],
    ];
    for (const [args, guess, help] of cases) {
      const { code, stderr } = await runCli(args);
      assert.equal(code, 64, `${args.join(' ')}: ${stderr}`);
      if (guess === undefined) assert.doesNotMatch(stderr, /did you mean/, args.join(' '));
      else assert.ok(stderr.includes(`did you mean \`${guess}\`?`), `${args.join(' ')}: ${stderr}`);
      assert.ok(stderr.includes(`run \`${help}\` for the list of commands`), `${args.join(' ')}: ${stderr}`);
      assert.doesNotMatch(stderr, /this is a bug/);
    }
  });

  it('on a terminal a mistyped command is offered to be run; declining is a usage error', async () => {
    const spec = { argv: [process.execPath, path.join(repoRoot, 'bin', 'run.js'), 'sercrets', 'list'], answers: [['Did you mean', 'n']] };
    const { stdout } = await promisify(execFile)('python3', [path.join(repoRoot, 'test', 'support', 'pty_run.py'), JSON.stringify(spec)], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', TERM: 'dumb' },
    });
    const { exit, transcript } = JSON.parse(stdout) as { exit: number; transcript: string };
    assert.match(transcript, /Did you mean .*secrets list/);
    assert.equal(exit, 64, transcript);
  });

  it('a usage error names the help of the command that was run', async () => {
    const cases: Array<[string[], string]> = [
      [['servers', 'list', '--no-such-flag'], 'nix-infra servers list --help'],
      [['cluster', 'cmd'], 'nix-infra cluster cmd --help'],
      [['autocomplete', 'fish'], 'nix-infra autocomplete --help'],
    ];
    for (const [args, help] of cases) {
      const { code, stderr } = await runCli(args);
      assert.equal(code, 64, `${args.join(' ')}: ${stderr}`);
      assert.ok(stderr.includes(`hint: run \`${help}\` for usage`), `${args.join(' ')}: ${stderr}`);
    }
  });

  it('bash completion from `autocomplete` completes topics, subcommands and flags', async (t) => {
    const home = await tempDir(t);
    const setup = await runCli(['autocomplete', 'script', 'bash'], { env: { HOME: home } });
    assert.equal(setup.code, 0, setup.stderr);
    const complete = async (words: string[]): Promise<string[]> => {
      // What bash does on <TAB>: COMP_WORDS holds the line, COMP_CWORD the word being completed.
      const script = [
        'complete() { :; }', // the setup's own `complete -F` registration is not needed here
        setup.stdout,
        `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}`,
        '_nix-infra_autocomplete; printf "%s\\n" "${COMPREPLY[@]}"',
      ].join('\n');
      const { stdout } = await promisify(execFile)('bash', ['-c', script], { env: { HOME: home, PATH: process.env.PATH ?? '' } });
      return [...new Set(stdout.split('\n').filter(Boolean))];
    };
    const setupBefore = await runCli(['autocomplete', '--refresh-cache'], { env: { HOME: home } });
    assert.equal(setupBefore.code, 0, setupBefore.stderr);
    assert.deepEqual(await complete(['nix-infra', 'clu']), ['cluster']);
    assert.ok((await complete(['nix-infra', 'cluster', 'deploy-a'])).includes('deploy-apps'));
    assert.ok((await complete(['nix-infra', 'cluster', 'deploy-apps', '--reb'])).includes('--rebuild'));
  });

  it('help reflows descriptions: no line of a paragraph ends where the next word would have fit', async () => {
    const config = await Config.load(repoRoot);
    const width = 90;
    const help = new ReflowingHelp(config, { maxWidth: width }) as unknown as { formatCommand(c: unknown): string };
    for (const command of config.commands) {
      const text = help.formatCommand(command);
      const description = text.split('\nDESCRIPTION\n')[1]?.split(/\n[A-Z]+\n/)[0] ?? '';
      const lines = description.split('\n');
      for (let i = 0; i + 1 < lines.length; i++) {
        const [line, next] = [lines[i]!, lines[i + 1]!];
        if (line.trim() === '' || next.trim() === '' || /^\s*([-*] |\d+\. )/.test(next)) continue;
        if (next.search(/\S/) !== line.search(/\S/)) continue; // an indented block, kept as written
        const nextWord = next.trim().split(' ')[0]!;
        assert.ok(line.length + 1 + nextWord.length > width, `${command.id}: ragged line\n${line}\n${next}`);
      }
    }
  });
});
