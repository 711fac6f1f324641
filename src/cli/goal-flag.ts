import { Flags } from '@oclif/core';
import { DEPLOY_GOALS, type DeployGoal } from '../domain/deploy-goal.js';
import { UsageError, UserError } from '../domain/errors.js';

/**
 * `--goal` of every deploy form, and upstream's boolean it replaces: `--rebuild` is `--goal
 * switch`, `--no-rebuild` is no rebuild. Read them with resolveGoal.
 */
export const goalFlags = {
  goal: Flags.option({
    options: DEPLOY_GOALS,
    summary: 'Run nixos-rebuild <goal> after the upload: switch, boot (next boot only), test (now, not at boot), dry-activate (list the units it would touch), build.',
  })(),
  rebuild: Flags.boolean({ summary: 'Upstream alias: --rebuild is --goal switch, --no-rebuild uploads without rebuilding.', allowNo: true }),
};

export interface GoalRules {
  /** The command as typed, for messages. */
  readonly command: string;
  /** Neither flag given. */
  readonly byDefault: DeployGoal | undefined;
  /** The command always rebuilds (init-machine, init-node): --no-rebuild is refused. */
  readonly alwaysRebuilds?: boolean;
  /** Goals the command accepts (default: all). */
  readonly allowed?: readonly DeployGoal[];
  /** What to do instead of --no-rebuild on a command that always rebuilds. */
  readonly noRebuildHint?: string;
}

/**
 * The goal the flags ask for (undefined: no rebuild). Both forms at once are a usage error
 * (exit 64) rather than one silently winning, since `--no-rebuild --goal test` has no sensible reading.
 */
export function resolveGoal(flags: { goal?: DeployGoal | undefined; rebuild?: boolean | undefined }, rules: GoalRules): DeployGoal | undefined {
  if (flags.goal !== undefined && flags.rebuild !== undefined) {
    throw new UsageError(`${rules.command}: --goal and --${flags.rebuild ? '' : 'no-'}rebuild cannot be given together`, [
      '--rebuild is --goal switch; --no-rebuild is no rebuild: give one of them',
    ]);
  }
  if (rules.alwaysRebuilds === true && flags.rebuild === false) {
    throw new UserError(`${rules.command} always rebuilds; --no-rebuild does not apply`, {
      hints: [rules.noRebuildHint ?? 'to upload without activating: --goal build, or --goal boot for the next boot'],
    });
  }
  const goal = flags.goal ?? (flags.rebuild === undefined ? rules.byDefault : flags.rebuild ? 'switch' : undefined);
  if (goal !== undefined && rules.allowed !== undefined && !rules.allowed.includes(goal)) {
    throw new UsageError(`${rules.command} does not take --goal ${goal}`, [`it takes --goal ${rules.allowed.join(', ')}`]);
  }
  return goal;
}
