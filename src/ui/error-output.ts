import { ExitCode, UserError } from '../domain/errors.js';

interface OclifErrorShape {
  code?: string;
  oclif?: { exit?: number };
  parse?: unknown;
}

/**
 * Prints a failure to stderr and returns the exit code. A UserError is one line plus hints;
 * oclif's parse errors are usage errors (64); anything else is a bug, shown with its stack only
 * under --debug so that operators are not buried in noise but maintainers can still see it.
 */
export function reportFailure(error: unknown, options: { debug: boolean }): number {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as OclifErrorShape;

  // `this.exit(n)` inside oclif: not a failure to report.
  if (shape.code === 'EEXIT') return shape.oclif?.exit ?? ExitCode.ok;

  if (error instanceof UserError) {
    const lines = [`Error: ${error.message}`, ...error.hints.map((hint) => `  hint: ${hint}`)];
    if (options.debug && error.stack) lines.push(error.stack);
    process.stderr.write(`${lines.join('\n')}\n`);
    return error.exitCode;
  }

  const message = error instanceof Error ? error.message : String(error);
  if (shape.parse !== undefined || /^command .+ not found$/i.test(message)) {
    process.stderr.write(`Error: ${message.replace(/\nSee more help with --help$/, '')}\n  hint: run \`nix-infra --help\` (or add --help after the command) for usage\n`);
    return ExitCode.usage;
  }

  const stack = error instanceof Error ? error.stack : undefined;
  process.stderr.write(`Error: ${message}\n`);
  if (options.debug && stack) process.stderr.write(`${stack}\n`);
  else process.stderr.write('  hint: this is a bug in nix-infra; re-run with --debug for the stack trace and report it\n');
  return ExitCode.failed;
}
