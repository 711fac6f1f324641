import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { applyCommand, factsCommand, fileSetPayload, parseFacts, parseRemoved, sha256Hex } from '../src/remote/file-set.js';
import { parseProbe, probeCommand } from '../src/remote/probe.js';
import { tarArchive } from '../src/remote/tar-stream.js';
import { tempDir } from './support/repo.js';

// The file-set scripts run here by the local sh, GNU tar and coreutils (what a NixOS node has),
// on a temporary folder standing in for /etc/nixos.

function run(command: { argv: readonly string[] } | { script: string }, input?: Buffer) {
  if (!('argv' in command)) throw new Error('argv expected');
  const [file, ...args] = command.argv;
  return spawnSync(file as string, args, { input: input ?? Buffer.alloc(0) });
}

describe('tar archive', () => {
  it('is read by GNU tar: modes, long names (pax), binary content', async (t) => {
    const dir = await tempDir(t, 'nix-infra-tar-');
    const long = `${'deep/'.repeat(30)}file.nix`;
    const binary = Buffer.from(Array.from({ length: 1500 }, (_, i) => i % 256));
    const archive = tarArchive([
      { path: 'a.nix', mode: 0o644, content: Buffer.from('a\n') },
      { path: 'bin/run.sh', mode: 0o755, content: Buffer.from('#!/bin/sh\n') },
      { path: long, mode: 0o644, content: binary },
      { path: 'empty', mode: 0o600, content: Buffer.alloc(0) },
    ]);
    const result = spawnSync('tar', ['-x', '--no-same-owner', '-C', dir, '-f', '-'], { input: archive });
    assert.equal(result.status, 0, result.stderr.toString());
    assert.equal(await readFile(path.join(dir, 'a.nix'), 'utf8'), 'a\n');
    assert.deepEqual(await readFile(path.join(dir, long)), binary);
    assert.equal(await readFile(path.join(dir, 'empty'), 'utf8'), '');
    const mode = spawnSync('stat', ['-c', '%a', path.join(dir, 'bin/run.sh')]).stdout.toString().trim();
    assert.equal(mode, '755');
  });
});

describe('probe', () => {
  it('runs every part in one exec and returns each output and status, quoting argv once', () => {
    const parts = [{ argv: ['printf', '%s', "it's $(not run)"] }, { argv: ['sh', '-c', 'printf "a\\0b"; exit 3'] }, { argv: ['false'] }];
    const result = run(probeCommand(parts));
    assert.equal(result.status, 0, result.stderr.toString());
    const [one, two, three] = parseProbe(result.stdout, 3);
    assert.deepEqual([one?.exitCode, one?.stdout.toString()], [0, "it's $(not run)"]);
    assert.deepEqual([two?.exitCode, two?.stdout], [3, Buffer.from('a\0b')]);
    assert.equal(three?.exitCode, 1);
  });
});

describe('file set apply', () => {
  async function node(t: Parameters<typeof tempDir>[0]) {
    const root = path.join(await tempDir(t, 'nix-infra-fileset-'), 'etc-nixos');
    await mkdir(path.join(root, 'app_modules', 'web'), { recursive: true });
    await writeFile(path.join(root, 'configuration.nix'), 'old config\n');
    await writeFile(path.join(root, 'app_modules', 'web', 'keep.nix'), 'keep\n');
    await writeFile(path.join(root, 'app_modules', 'web', 'stale.nix'), 'stale\n');
    const facts = () => parseFacts(run(factsCommand(root, false)).stdout);
    const entries = [
      { remotePath: `${root}/configuration.nix`, content: Buffer.from('new config\n'), mode: 0o644 },
      { remotePath: `${root}/app_modules/web/keep.nix`, content: Buffer.from('keep\n'), mode: 0o644 },
      { remotePath: `${root}/app_modules/new/tool.sh`, content: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
    ];
    return { root, facts, entries };
  }

  it('sends only what differs, swaps it in, removes stale app_modules files, leaves no stage', async (t) => {
    const { root, facts, entries } = await node(t);
    const before = facts();
    assert.equal(before.files.get(`${root}/configuration.nix`), sha256Hex(Buffer.from('old config\n')));
    const payload = fileSetPayload(root, entries, [`${root}/app_modules`], before.files, `${root}/app_modules`);
    assert.deepEqual(payload.changed, [`${root}/configuration.nix`, `${root}/app_modules/new/tool.sh`]);
    assert.deepEqual(payload.unchanged, [`${root}/app_modules/web/keep.nix`]);
    const result = run(applyCommand(root, true), payload.archive);
    assert.equal(result.status, 0, result.stderr.toString());
    assert.deepEqual(parseRemoved(result.stdout), [`${root}/app_modules/web/stale.nix`]);
    assert.equal(await readFile(path.join(root, 'configuration.nix'), 'utf8'), 'new config\n');
    assert.deepEqual((await readdir(path.join(root, 'app_modules', 'web'))).sort(), ['keep.nix']);
    assert.deepEqual((await readdir(root)).filter((n) => n.startsWith('.nix-infra-stage.')), []);
  });

  it('replaces nothing when a kept file changed since it was read, and says which folder', async (t) => {
    const { root, facts, entries } = await node(t);
    const payload = fileSetPayload(root, entries, [], facts().files, `${root}/app_modules`);
    await writeFile(path.join(root, 'app_modules', 'web', 'keep.nix'), 'someone else\n');
    const result = run(applyCommand(root, true), payload.archive);
    assert.equal(result.status, 1);
    assert.match(result.stderr.toString(), new RegExp(`${root}: files changed on the node since this deploy read them`));
    assert.equal(await readFile(path.join(root, 'configuration.nix'), 'utf8'), 'old config\n');
    assert.deepEqual((await readdir(root)).filter((n) => n.startsWith('.nix-infra-stage.')), []);
  });

  it('replaces nothing when the stream is cut or a file arrives damaged', async (t) => {
    const { root, facts, entries } = await node(t);
    const payload = fileSetPayload(root, entries, [], facts().files, `${root}/app_modules`);
    const cut = run(applyCommand(root, true), payload.archive.subarray(0, 1200));
    assert.equal(cut.status, 1);
    assert.match(cut.stderr.toString(), /did not arrive complete/);
    const damaged = Buffer.from(payload.archive);
    const at = damaged.indexOf('new config');
    damaged.write('NEW', at, 'utf8');
    const bad = run(applyCommand(root, true), damaged);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr.toString(), /arrived damaged/);
    assert.equal(await readFile(path.join(root, 'configuration.nix'), 'utf8'), 'old config\n');
    assert.deepEqual((await readdir(root)).filter((n) => n.startsWith('.nix-infra-stage.')), []);
  });
});
