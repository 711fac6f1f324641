import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { mergeEnvAssignments, parseEnvFile, parseEnvVars, type EnvAssignment } from '../core/remote/action.js';
import { UserError } from '../domain/errors.js';
import type { Reporter } from '../ports/reporter.js';

/**
 * The variables for `action`: --env-vars-file (a file, or `-` for stdin) keeps values out of argv;
 * --env-vars still works (upstream scripts use it) but is warned about, as `secrets store
 * --secret` is: argv is visible in `ps` and ends up in shell history.
 */
export async function readEnvAssignments(options: {
  envVars: readonly string[];
  envFile: string | undefined;
  cwd: string;
  reporter: Reporter;
}): Promise<EnvAssignment[]> {
  const fromArgv = parseEnvVars(options.envVars);
  if (options.envVars.length > 0) {
    options.reporter.emit({
      kind: 'warning',
      message: '--env-vars exposes its values in the process list and shell history; prefer --env-vars-file <path>, or --env-vars-file - with the values on stdin',
    });
  }
  if (options.envFile === undefined) return fromArgv;
  return mergeEnvAssignments(parseEnvFile(await readEnvSource(options.envFile, options.cwd), '--env-vars-file'), fromArgv);
}

async function readEnvSource(envFile: string, cwd: string): Promise<string> {
  if (envFile === '-') {
    if (process.stdin.isTTY === true) throw new UserError('--env-vars-file -: stdin is a terminal; pipe the NAME=value lines in');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  const file = path.resolve(cwd, envFile);
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`--env-vars-file: cannot read ${file}${code === 'ENOENT' ? ': no such file' : `: ${code}`}`);
  }
}
