import assert from 'node:assert/strict';
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from './support/cli.js';
import { repoRoot, tempDir } from './support/repo.js';
import { canRunSandbox, startSandbox } from './support/sandbox.js';

const skip = canRunSandbox() ? false : 'sandbox hosts need root';

describe('day-two operations on sandbox hosts', { skip, timeout: 120_000 }, () => {
  it('gc, rollback and upgrade-nixos: confirmation, exact remote commands, a failing host reported with its tail while the others finish', async (t) => {
    const dir = await tempDir(t, 'nix-infra-day2-');
    const sandbox = await startSandbox(t, { hosts: 3, project: dir });
    for (const file of ['configuration.nix', 'flake.nix']) await copyFile(path.join(repoRoot, 'templates', 'common', file), path.join(dir, file));
    const nodes = 'node001 node002 node003';
    const commands = async (node: string) => (await sandbox.calls(node)).map((c) => c.join(' '));

    // Destructive: without a terminal and without --batch nothing happens.
    const unconfirmed = await runCli(['fleet', 'gc', '-d', dir, '--target', nodes]);
    assert.equal(unconfirmed.code, 2, unconfirmed.stderr);
    assert.match(unconfirmed.stderr, /confirmation needed: Garbage-collect node001, node002, node003\?/);
    assert.deepEqual(await commands('node001'), []);

    const gc = await runCli(['fleet', 'gc', '-d', dir, '--target', nodes, '--batch']);
    assert.equal(gc.code, 0, gc.stderr);
    for (const node of ['node001', 'node002', 'node003']) assert.deepEqual(await commands(node), ['nix-collect-garbage -d']);

    await sandbox.setTool('node002', 'nixos-rebuild', { exit: 1, output: "error: infinite recursion encountered at /etc/nixos/node002.nix:3" });
    const back = await runCli(['cluster', 'rollback', '-d', dir, '--target', nodes, '--batch']);
    assert.equal(back.code, 1, back.stderr);
    assert.match(back.stderr, /^2 ok, 1 failed:$/m);
    assert.match(back.stderr, /node002: nixos-rebuild switch --rollback failed \(exit 1\)/);
    assert.match(back.stderr, /infinite recursion encountered at \/etc\/nixos\/node002\.nix:3/, 'the output tail is shown');
    assert.ok((await commands('node003')).includes('nixos-rebuild switch --rollback'), 'the other hosts finished');

    // node002's rebuild succeeds but leaves the old release running (its nixos-version stays
    // 25.05 whatever was built): the upgrade fails there, naming both releases.
    await sandbox.setTool('node002', 'nixos-rebuild', {});
    await sandbox.setTool('node002', 'nixos-version', { output: '25.05.20250101.abcdef (Warbler)\n' });
    const upgrade = await runCli(['fleet', 'upgrade-nixos', '-d', dir, '--ssh-key', 'sandbox', '--target', nodes, '--nixos-version', '25.11', '--batch', '--json']);
    assert.equal(upgrade.code, 1, upgrade.stderr);
    const report = JSON.parse(upgrade.stdout) as { hosts: { host: string; ok: boolean; before?: string; after?: string; upgraded?: boolean; error?: string }[] };
    assert.deepEqual(report.hosts.filter((h) => h.ok).map((h) => [h.host, h.before, h.after, h.upgraded]), [
      ['node001', '25.05.20250101.abcdef (Warbler)', '25.11.20250101.abcdef (Xantusia)', true],
      ['node003', '25.05.20250101.abcdef (Warbler)', '25.11.20250101.abcdef (Xantusia)', true],
    ]);
    assert.match(report.hosts.find((h) => h.host === 'node002')?.error ?? '', /^upgrade to NixOS 25\.11 did not take: the node runs 25\.05\.20250101\.abcdef \(Warbler\) after the rebuild/, upgrade.stdout);
    const calls = await commands('node001');
    assert.deepEqual(calls.slice(2), ['nixos-version', 'nix-channel --add https://nixos.org/channels/nixos-25.11 nixos', 'nix-channel --update', 'nixos-rebuild switch', 'nixos-version']);
    const flake = await readFile(path.join(sandbox.hosts[0]?.upperDir ?? '', 'etc', 'nixos', 'flake.nix'), 'utf8');
    assert.match(flake, /nixos-25\.11/);
    assert.ok(!flake.includes('[%%'));

    // Already on the release: nothing but the version check.
    const same = await runCli(['fleet', 'upgrade-nixos', '-d', dir, '--ssh-key', 'sandbox', '--target', 'node003', '--nixos-version', '25.11', '--batch']);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stderr, /node003: already on 25\.11/);
  });
});
