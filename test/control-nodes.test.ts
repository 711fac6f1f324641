import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NodeWorkspace } from '../src/adapters/node-workspace.js';
import {
  chooseControlNodes,
  CLUSTER_STATE_FILE,
  conventionalControlNodes,
  parseClusterState,
  rememberControlNodes,
  rememberedControlNodes,
} from '../src/core/cluster/control-nodes.js';
import { UserError } from '../src/domain/errors.js';
import { tempDir } from './support/repo.js';

describe('control nodes: flag, CTRL_NODES, remembered by init-ctrl, upstream convention', () => {
  it('remembers them in .nix-infra/cluster.json, written whole, and reads them back', async (t) => {
    const dir = await tempDir(t, 'nix-infra-ctrl-state-');
    const project = new NodeWorkspace(dir);
    assert.equal(await rememberedControlNodes(project), undefined);
    await rememberControlNodes(project, ['node001', 'node002', 'node003']);
    assert.deepEqual(await rememberedControlNodes(project), ['node001', 'node002', 'node003']);
    assert.equal(await readFile(path.join(dir, CLUSTER_STATE_FILE), 'utf8'), '{\n  "version": 1,\n  "controlNodes": [\n    "node001",\n    "node002",\n    "node003"\n  ]\n}\n');
    assert.equal((await stat(path.join(dir, CLUSTER_STATE_FILE))).mode & 0o777, 0o644);
    await rememberControlNodes(project, ['etcd001']);
    assert.deepEqual(await rememberedControlNodes(project), ['etcd001']);
    assert.deepEqual(await readdir(path.join(dir, '.nix-infra')), ['cluster.json'], 'no temporary file left behind');
  });

  it('takes the first source that names a node; the server list only when nothing else did', async (t) => {
    const dir = await tempDir(t, 'nix-infra-ctrl-choose-');
    const project = new NodeWorkspace(dir);
    let listed = 0;
    const serverNames = async () => {
      listed++;
      return ['worker001', 'etcd002', 'etcd001', 'etcd-old', 'etcd003x'];
    };
    const choose = (flag: string[], env: string[]) => chooseControlNodes({ flag, env, project, serverNames });
    assert.deepEqual(await choose([], []), { names: ['etcd001', 'etcd002'], source: 'convention' });
    assert.equal(listed, 1);
    await rememberControlNodes(project, ['node001', 'node002']);
    assert.deepEqual(await choose([], []), { names: ['node001', 'node002'], source: 'project' });
    assert.deepEqual(await choose([], ['node009']), { names: ['node009'], source: 'env' });
    assert.deepEqual(await choose(['node007'], ['node009']), { names: ['node007'], source: 'flag' });
    assert.equal(listed, 1, 'the provider is not asked when a list is known');
    const none = await chooseControlNodes({ flag: [], env: [], project: new NodeWorkspace(await tempDir(t)), serverNames: async () => ['worker001'] });
    assert.equal(none, undefined);
  });

  it('upstream convention: etcd + digits, in name order', () => {
    assert.deepEqual(conventionalControlNodes(['etcd003', 'etcd001', 'etcd', 'etcd01a', 'xetcd001', 'etcd010']), ['etcd001', 'etcd003', 'etcd010']);
  });

  it('a broken state file is an error naming the file and what to do', async (t) => {
    for (const [text, why] of [
      ['{', /not JSON/],
      ['[]', /expected an object/],
      ['{"version":2,"controlNodes":["a"]}', /version 2/],
      ['{"version":1,"controlNodes":[]}', /non-empty list/],
      ['{"version":1,"controlNodes":["ok","a b",3]}', /not node names: "a b", 3/],
    ] as const) {
      assert.throws(() => parseClusterState(text), (err: Error) => err instanceof UserError && err.message.startsWith(`${CLUSTER_STATE_FILE}: `) && why.test(err.message), text);
    }
    const dir = await tempDir(t, 'nix-infra-ctrl-broken-');
    await mkdir(path.join(dir, '.nix-infra'));
    await writeFile(path.join(dir, CLUSTER_STATE_FILE), 'nope');
    await assert.rejects(rememberedControlNodes(new NodeWorkspace(dir)), /cluster\.json: not JSON/);
  });
});
