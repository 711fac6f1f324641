import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { driftOf, isInSync, outOfBandOf, pendingBootOf, rebootNeededOf } from '../src/core/status/compartments.js';
import { nextNodeState, parseNodeState, type NodeState } from '../src/core/status/node-state.js';
import { inputsHash } from '../src/core/deploy/inputs-hash.js';
import { parseStatusReport, type StatusReport } from '../src/remote/status-probe.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const part = (inputsHash: string, extra: object = {}) => ({ inputsHash, writtenAt: '2026-12-01T10:00:00.000Z', nixosVersion: '25.05', nodeModule: 'node_types/cluster_node.nix', fromTestDir: false, ...extra });
const state = (parts: NodeState['parts'], storePath?: string): NodeState => ({ version: 1, parts, ...(storePath ? { storePath } : {}), operator: 'op@laptop', cliVersion: '0.1.0' });
const report = (over: Partial<StatusReport>): StatusReport => ({
  arch: 'x86_64', bootId: 'id', runningKernel: '6.6', currentSystem: '/nix/store/1-sys', bootedSystem: '/nix/store/1-sys', profileSystem: '/nix/store/1-sys',
  currentKernel: 'linux-6.6', bootedKernel: 'linux-6.6', nixosVersion: '25.05.1', failedUnits: [], stateText: '', ...over,
});

describe('status compartments (pure)', () => {
  it('drift: per recorded part, against the rendering of this checkout', () => {
    assert.deepEqual(driftOf(undefined, {}), { kind: 'never-deployed' });
    assert.deepEqual(driftOf(state({}), {}), { kind: 'never-deployed' });
    assert.deepEqual(driftOf(state({ apps: part(A) }), { apps: A }), { kind: 'in-sync' });
    assert.deepEqual(driftOf(state({ apps: part(A) }), { apps: B }), { kind: 'drift', parts: ['apps'] });
    assert.deepEqual(driftOf(state({ apps: part(A), system: part(B) }), { apps: B, system: A }), { kind: 'drift', parts: ['system', 'apps'] });
    // A part never deployed is not compared, whatever this checkout renders for it.
    assert.deepEqual(driftOf(state({ apps: part(A) }), { apps: A, system: B }), { kind: 'in-sync' });
    assert.deepEqual(driftOf(state({ apps: part(A, { fromTestDir: true }) }), { apps: A }), { kind: 'unknown', reason: 'the last apps deploy rendered a --test-dir node file' });
    assert.deepEqual(driftOf(state({ apps: part(A) }), { apps: { unknown: 'cannot render: x' } }), { kind: 'unknown', reason: 'cannot render: x' });
  });

  it('out-of-band: the running system is not the one our last rebuild activated', () => {
    assert.deepEqual(outOfBandOf(state({}, '/nix/store/1-sys'), report({})), { kind: 'ok' });
    assert.deepEqual(outOfBandOf(state({}, '/nix/store/1-sys'), report({ currentSystem: '/nix/store/2-sys' })), { kind: 'changed', recorded: '/nix/store/1-sys', current: '/nix/store/2-sys' });
    assert.equal(outOfBandOf(state({}), report({})).kind, 'unknown');
    assert.equal(outOfBandOf(state({}, '/nix/store/1-sys'), report({ currentSystem: '' })).kind, 'unknown');
  });

  it('pending boot: the profile is ahead of the running system', () => {
    assert.deepEqual(pendingBootOf(report({})), { pending: false });
    assert.deepEqual(pendingBootOf(report({ profileSystem: '/nix/store/2-sys' })), { pending: true, next: '/nix/store/2-sys' });
    assert.deepEqual(pendingBootOf(report({ profileSystem: '' })), { pending: false });
  });

  it('reboot needed: the running system has another kernel than the booted one', () => {
    assert.equal(rebootNeededOf(report({})), false);
    assert.equal(rebootNeededOf(report({ currentKernel: 'linux-6.12' })), true);
    assert.equal(rebootNeededOf(report({ bootedKernel: '' })), false);
  });

  it('in sync only when every compartment is', () => {
    const ok = { host: 'n', reachable: true, drift: { kind: 'in-sync' as const }, outOfBand: { kind: 'ok' as const }, pendingBoot: { pending: false }, failedUnits: [] };
    assert.equal(isInSync(ok), true);
    assert.equal(isInSync({ ...ok, reachable: false }), false);
    assert.equal(isInSync({ ...ok, drift: { kind: 'drift', parts: ['apps'] } }), false);
    assert.equal(isInSync({ ...ok, drift: { kind: 'never-deployed' } }), false);
    assert.equal(isInSync({ ...ok, outOfBand: { kind: 'changed', recorded: 'a', current: 'b' } }), false);
    assert.equal(isInSync({ ...ok, pendingBoot: { pending: true } }), false);
    assert.equal(isInSync({ ...ok, failedUnits: ['x.service'] }), false);
  });

  it('the state file: parsed strictly, merged per part, store path only from a rebuild', () => {
    assert.deepEqual(parseNodeState(''), {});
    assert.deepEqual(parseNodeState('{'), { problem: 'the state file is not JSON' });
    assert.deepEqual(parseNodeState('{"version":2}'), { problem: 'the state file does not have the expected shape' });
    const first = nextNodeState(undefined, { parts: { system: part(A) }, storePath: '/nix/store/1-sys', at: 't1', operator: 'a@b', cliVersion: '1' });
    const second = nextNodeState(first, { parts: { apps: part(B) }, at: 't2', operator: 'c@d', cliVersion: '2' });
    assert.deepEqual(second.parts, { system: part(A), apps: part(B) });
    assert.equal(second.storePath, '/nix/store/1-sys');
    assert.equal(second.activatedAt, 't1');
    assert.deepEqual(parseNodeState(JSON.stringify(second)).state, second);
  });

  it('inputs hash: order-free over files, sensitive to path, mode, content and secret names', () => {
    const f = (remotePath: string, content: string, mode = 0o644) => ({ remotePath, content: Buffer.from(content), mode });
    const base = inputsHash([f('/a', '1'), f('/b', '2')], ['s1']);
    assert.equal(inputsHash([f('/b', '2'), f('/a', '1')], ['s1']), base);
    assert.notEqual(inputsHash([f('/a', '1'), f('/b', '3')], ['s1']), base);
    assert.notEqual(inputsHash([f('/a', '1', 0o755), f('/b', '2')], ['s1']), base);
    assert.notEqual(inputsHash([f('/a', '1'), f('/c', '2')], ['s1']), base);
    assert.notEqual(inputsHash([f('/a', '1'), f('/b', '2')], ['s2']), base);
  });

  it('parses what the status script prints', () => {
    const text = 'arch=x86_64\nboot_id=b1\nrunning_kernel=6.1.0\ncurrent_system=/nix/store/1-sys\nbooted_system=/nix/store/1-sys\nprofile_system=/nix/store/2-sys\ncurrent_kernel=linux-6.6\nbooted_kernel=linux-6.6\nnixos_version=25.05.1\n--- failed-units ---\nnginx.service\nbad unit; rm\n--- state ---\n{"version":1}\n';
    const parsed = parseStatusReport(text);
    assert.equal(parsed.profileSystem, '/nix/store/2-sys');
    assert.deepEqual(parsed.failedUnits, ['nginx.service']);
    assert.equal(parsed.stateText, '{"version":1}');
    // No failed unit: the two markers follow each other.
    const none = parseStatusReport('arch=x86_64\n--- failed-units ---\n--- state ---\n{"version":1}\n');
    assert.deepEqual(none.failedUnits, []);
    assert.equal(none.stateText, '{"version":1}');
  });
});
