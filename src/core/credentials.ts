import { envValue } from '../config/env.js';
import { UserError } from '../domain/errors.js';
import { SecretValue } from '../domain/secret-value.js';
import type { CoreContext } from './context.js';

export interface PasswordSpec {
  /** Environment keys in order of preference. */
  readonly envKeys: readonly string[];
  /** Keys still accepted but deprecated, with the key that replaces them. */
  readonly deprecated?: Readonly<Record<string, string>>;
  /** What the prompt asks for, e.g. "secrets password". */
  readonly label: string;
  /** Ask twice when the password is being chosen (creating keys), not when it is being used. */
  readonly confirm?: boolean;
}

/**
 * A password from the environment, else from a hidden prompt. In --batch mode a missing password
 * is an error naming the variable to set: a CI job must never hang on a prompt.
 */
export async function obtainPassword(ctx: CoreContext, spec: PasswordSpec): Promise<SecretValue> {
  const name = spec.envKeys[0] ?? spec.label;
  for (const key of spec.envKeys) {
    const value = envValue(ctx.env, key);
    if (value !== undefined) return new SecretValue(key, value);
  }
  for (const [key, replacement] of Object.entries(spec.deprecated ?? {})) {
    const value = envValue(ctx.env, key);
    if (value !== undefined) {
      ctx.reporter.emit({ kind: 'warning', message: `${key} is deprecated, use ${replacement} instead` });
      return new SecretValue(key, value);
    }
  }
  if (!ctx.prompter.interactive) {
    throw new UserError(`${spec.label} is not set`, {
      hints: [`set ${name} in the environment or in the project's .env (prompting is off in --batch mode or without a terminal)`],
    });
  }
  const answer = await ctx.prompter.secret(spec.label, { confirm: spec.confirm ?? false });
  if (answer === '') throw new UserError(`${spec.label} cannot be empty`);
  return new SecretValue(name, answer);
}

export interface TextSpec {
  /** The flag's value, which wins when given. */
  readonly flagValue: string | undefined;
  readonly flagName?: string;
  readonly envKey?: string;
  readonly label: string;
  readonly defaultValue?: string;
}

/** A plain value from a flag, else the environment, else a default, else a prompt. */
export async function obtainText(ctx: CoreContext, spec: TextSpec): Promise<string> {
  if (spec.flagValue !== undefined && spec.flagValue !== '') return spec.flagValue;
  const fromEnv = spec.envKey === undefined ? undefined : envValue(ctx.env, spec.envKey);
  if (fromEnv !== undefined) return fromEnv;
  if (spec.defaultValue !== undefined) return spec.defaultValue;
  if (!ctx.prompter.interactive) {
    const sources = [spec.flagName && `pass --${spec.flagName}`, spec.envKey && `set ${spec.envKey}`].filter(Boolean);
    throw new UserError(`${spec.label} is not set`, {
      hints: [`${sources.join(' or ')} (prompting is off in --batch mode or without a terminal)`],
    });
  }
  const answer = (await ctx.prompter.text(spec.label)).trim();
  if (answer === '') throw new UserError(`${spec.label} cannot be empty`);
  return answer;
}
