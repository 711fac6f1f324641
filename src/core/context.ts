import type { EnvMap } from '../config/env.js';
import type { Prompter } from '../ports/prompter.js';
import type { Reporter } from '../ports/reporter.js';

/**
 * What every use-case receives instead of reaching for globals: the merged environment
 * (process env + .env), a way to ask the operator, a sink for progress events, and a clock.
 */
export interface CoreContext {
  readonly env: EnvMap;
  readonly prompter: Prompter;
  readonly reporter: Reporter;
  readonly now: () => Date;
}
