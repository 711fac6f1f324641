import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveGoal } from '../src/cli/goal-flag.js';
import { goalActivates } from '../src/domain/deploy-goal.js';
import { ExitCode, UserError } from '../src/domain/errors.js';
import { describeDryActivation, parseDryActivate } from '../src/remote/dry-activate.js';
import { rebuildFor } from '../src/remote/nixos-install.js';

describe('deploy goals', () => {
  it('runs nixos-rebuild with the goal as its action', () => {
    assert.deepEqual(rebuildFor('boot').argv, ['nixos-rebuild', 'boot']);
    assert.deepEqual(rebuildFor('dry-activate').argv, ['nixos-rebuild', 'dry-activate']);
  });

  it('only switch and test change the running system', () => {
    assert.deepEqual(
      (['switch', 'boot', 'test', 'dry-activate', 'build', undefined] as const).map((g) => goalActivates(g)),
      [true, false, true, false, false, false],
    );
  });

  it('reads --goal, the upstream --rebuild/--no-rebuild aliases and the default', () => {
    const rules = { command: 'fleet deploy-apps', byDefault: 'switch' } as const;
    assert.equal(resolveGoal({}, rules), 'switch');
    assert.equal(resolveGoal({}, { command: 'cluster deploy-apps', byDefault: undefined }), undefined);
    assert.equal(resolveGoal({ rebuild: true }, { command: 'cluster deploy-apps', byDefault: undefined }), 'switch');
    assert.equal(resolveGoal({ rebuild: false }, rules), undefined);
    assert.equal(resolveGoal({ goal: 'boot' }, rules), 'boot');
  });

  it('refuses --goal with --rebuild or --no-rebuild as a usage error, and goals a command does not take', () => {
    for (const rebuild of [true, false]) {
      assert.throws(
        () => resolveGoal({ goal: 'test', rebuild }, { command: 'deploy', byDefault: undefined }),
        (err: unknown) => err instanceof UserError && err.exitCode === ExitCode.usage && err.message.includes(`--${rebuild ? '' : 'no-'}rebuild cannot be given together`),
      );
    }
    assert.throws(
      () => resolveGoal({ goal: 'build' }, { command: 'cluster init-node', byDefault: 'switch', allowed: ['switch', 'boot', 'test'] }),
      (err: unknown) => err instanceof UserError && err.exitCode === ExitCode.usage && /does not take --goal build/.test(err.message),
    );
    assert.throws(
      () => resolveGoal({ rebuild: false }, { command: 'fleet init-machine', byDefault: 'switch', alwaysRebuilds: true }),
      (err: unknown) => err instanceof UserError && err.exitCode === ExitCode.invalidInput && /always rebuilds/.test(err.message),
    );
  });

  it("reads dry-activate's unit lists and leaves its other lines out", () => {
    const output = [
      'building the system configuration...',
      'would stop the following units: old.service',
      'would NOT stop the following changed units: getty@tty1.service',
      'would activate the configuration...',
      'would restart systemd',
      'would restart the following units: nginx.service, sshd.service',
      'would start the following units: app.service',
    ].join('\n');
    const parsed = parseDryActivate(output);
    assert.deepEqual(parsed, { stop: ['old.service'], restart: ['nginx.service', 'sshd.service'], reload: [], start: ['app.service'] });
    assert.equal(describeDryActivation(parsed), 'would stop 1 unit (old.service); would restart 2 units (nginx.service, sshd.service); would start 1 unit (app.service)');
    assert.equal(describeDryActivation(parseDryActivate('')), 'activation would change no units');
  });
});
