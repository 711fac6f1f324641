import path from 'node:path';
import { UserError } from '../domain/errors.js';

/** The environment a command sees: the process environment overlaid by the project's .env. */
export type EnvMap = Readonly<Record<string, string | undefined>>;

/**
 * Where the .env file is. `--env` absolute: as given. `--env` relative: the working dir first,
 * then the current dir (upstream joined even absolute paths onto the working dir, and its own
 * scripts relied on the current-dir rule; this accepts both). Without `--env`: `<working dir>/.env`,
 * and a missing default file is fine. An explicit `--env` that matches no file is an error.
 */
export function resolveEnvFile(options: {
  workingDir: string;
  cwd: string;
  envFlag: string | undefined;
  exists: (absPath: string) => boolean;
}): string | undefined {
  const { workingDir, cwd, envFlag, exists } = options;
  if (envFlag === undefined || envFlag === '') {
    const fallback = path.join(workingDir, '.env');
    return exists(fallback) ? fallback : undefined;
  }
  const candidates = path.isAbsolute(envFlag)
    ? [path.normalize(envFlag)]
    : [path.resolve(workingDir, envFlag), path.resolve(cwd, envFlag)];
  const found = candidates.find(exists);
  if (found === undefined) {
    throw new UserError(`--env: file not found: ${candidates.join(' or ')}`, {
      hints: ['a relative --env is looked up in the working dir (-d) first, then in the current dir'],
    });
  }
  return found;
}

/**
 * Values from the .env file win over the process environment. This matches upstream, and it is
 * the safer default for a per-project file: an HCLOUD_TOKEN left in an operator's shell from
 * another project must not redirect this project's commands. See docs/configuration.md.
 */
export function mergeEnv(processEnv: EnvMap, fileValues: EnvMap): EnvMap {
  return Object.freeze({ ...processEnv, ...fileValues });
}

/** A value that counts as set: present and not empty. */
export function envValue(env: EnvMap, key: string): string | undefined {
  const value = env[key];
  return value === undefined || value === '' ? undefined : value;
}
