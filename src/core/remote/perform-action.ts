import type { SecretStore } from '../../ports/secret-store.js';
import type { Workspace } from '../../ports/workspace.js';
import type { CoreContext } from '../context.js';
import { prepareSecretWrite } from '../secrets/store-secret.js';
import { runAction, type ActionOutput, type ActionParams } from './action.js';
import type { FanoutDeps, HostOutcome } from './fanout.js';

export interface PerformActionResult {
  readonly outcomes: HostOutcome<ActionOutput>[];
  /** The secret the output was stored as, when asked for and the action succeeded. */
  readonly savedAs?: string;
}

/**
 * `action`, with `--save-as-secret`: the secret's name and the store's password are settled
 * before the action runs (its output must have a home), and the output is stored only when the
 * action succeeded. The output never passes through the reporter.
 */
export async function performAction(
  deps: FanoutDeps & { ctx: CoreContext; project: Workspace; store: SecretStore },
  params: Omit<ActionParams, 'captureStdout'> & { saveAs?: string },
): Promise<PerformActionResult> {
  const save = params.saveAs === undefined ? undefined : await prepareSecretWrite({ ctx: deps.ctx, store: deps.store }, params.saveAs);
  const result = await runAction(deps, { ...params, captureStdout: save !== undefined });
  if (save === undefined || result.captured === undefined) return { outcomes: result.outcomes };
  const saved = await save(result.captured.reveal());
  return { outcomes: result.outcomes, savedAs: saved.name };
}
