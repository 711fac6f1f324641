import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'dotenv';
import { withEnvEntries } from '../src/core/init/env-file.js';
import { mergeEnv, resolveEnvFile } from '../src/config/env.js';
import { selectProvider } from '../src/config/provider-detect.js';
import { UserError } from '../src/domain/errors.js';

describe('.env resolution', () => {
  const files = new Set(['/w/.env', '/w/conf/x.env', '/c/only-cwd.env', '/abs/a.env']);
  const exists = (p: string): boolean => files.has(p);
  const resolve = (envFlag: string | undefined): string | undefined => resolveEnvFile({ workingDir: '/w', cwd: '/c', envFlag, exists });

  it('defaults to <working dir>/.env, and a missing default is fine', () => {
    assert.equal(resolve(undefined), '/w/.env');
    assert.equal(resolveEnvFile({ workingDir: '/empty', cwd: '/c', envFlag: undefined, exists }), undefined);
  });

  it('uses an absolute --env as given (upstream joined it onto the working dir)', () => {
    assert.equal(resolve('/abs/a.env'), '/abs/a.env');
  });

  it('looks a relative --env up in the working dir first, then in the current dir', () => {
    assert.equal(resolve('conf/x.env'), '/w/conf/x.env');
    assert.equal(resolve('only-cwd.env'), '/c/only-cwd.env');
  });

  it('an explicit --env that matches nothing is a UserError listing where it looked', () => {
    assert.throws(() => resolve('nope.env'), (e: unknown) => e instanceof UserError && e.message.includes('/w/nope.env') && e.message.includes('/c/nope.env'));
  });

  it('values from the .env file win over the process environment', () => {
    const env = mergeEnv({ A: 'process', B: 'process' }, { A: 'file' });
    assert.equal(env.A, 'file');
    assert.equal(env.B, 'process');
  });
});

describe('provider detection', () => {
  it('servers.yaml wins over HCLOUD_TOKEN; the token alone selects Hetzner; neither explains both', () => {
    assert.deepEqual(selectProvider('/p', { HCLOUD_TOKEN: 't' }, (f) => f === '/p/servers.yaml'), { kind: 'self-hosted', serversFile: '/p/servers.yaml' });
    assert.deepEqual(selectProvider('/p', { HCLOUD_TOKEN: 't' }, () => false), { kind: 'hetzner', token: 't' });
    assert.throws(
      () => selectProvider('/p', { HCLOUD_TOKEN: '' }, () => false),
      (e: unknown) => e instanceof UserError && e.hints.some((h) => h.includes('servers.yaml')) && e.hints.some((h) => h.includes('HCLOUD_TOKEN')),
    );
  });
});

describe('.env entries written by init', () => {
  it('dotenv reads every written value back exactly, and existing keys and lines stay', () => {
    const values = ['plain', 'with space', 'has#hash', 'a"quote', 'dollar$HOME', 'back\\slash', 'p@ss:w/rd+1,2=3'];
    const entries = values.map((value, i) => ({ key: `K${i}`, value }));
    const existing = '# mine\nK0=kept\nOTHER=1';
    const { text, added } = withEnvEntries(existing, entries, 'written by nix-infra init');
    assert.ok(text.startsWith('# mine\nK0=kept\nOTHER=1\n'), text);
    assert.deepEqual(added, entries.slice(1).map((e) => e.key));
    const parsed = parse(Buffer.from(text));
    assert.equal(parsed.K0, 'kept', 'a key already set is never changed');
    entries.slice(1).forEach(({ key, value }) => assert.equal(parsed[key], value, key));
    assert.deepEqual(withEnvEntries(text, entries, 'again'), { text, added: [] });
    assert.throws(() => withEnvEntries('', [{ key: 'X', value: "it's\nbad" }], 'h'), /X: a value with a single quote or a line break/);
  });
});
