import { ExitCode, UserError } from '../domain/errors.js';
import { closestCommand } from './command-suggestion.js';

interface OclifErrorShape {
  code?: string;
  oclif?: { exit?: number };
  parse?: { input?: { context?: { id?: string } } };
}

export interface FailureContext {
  debug: boolean;
  /** The arguments as given, to name the command in hints. */
  argv?: readonly string[];
  /** Command names and aliases as typed (`cluster deploy-apps`), for "did you mean". */
  commandNames?: () => readonly string[];
}

/**
 * Prints a failure to stderr and returns the exit code. A UserError is one line plus hints;
 * oclif's parse errors and unknown commands are usage errors (64); anything else is a bug,
 * shown with its stack only under --debug so that operators are not buried in noise but
 * maintainers can still see it.
 */
export function reportFailure(error: unknown, context: FailureContext): number {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as OclifErrorShape;

  // `this.exit(n)` inside oclif: not a failure to report.
  if (shape.code === 'EEXIT') return shape.oclif?.exit ?? ExitCode.ok;

  if (error instanceof UserError) {
    // A flag's own parser threw it; oclif wrapped the message in "Parsing --x" and a help line.
    const message = error.message.replace(/^Parsing --\S+ \n\t/, '').replace(/\nSee more help with --help$/, '');
    const lines = [`Error: ${message}`, ...error.hints.map((hint) => `  hint: ${hint}`)];
    if (context.debug && error.stack) lines.push(error.stack);
    process.stderr.write(`${lines.join('\n')}\n`);
    return error.exitCode;
  }

  const message = error instanceof Error ? error.message : String(error);
  const unknown = unknownCommand(message, context.argv ?? []);
  if (unknown !== undefined) {
    const names = context.commandNames?.() ?? [];
    const guess = closestCommand(unknown, names);
    const topic = unknown.split(' ')[0] ?? '';
    const helpFor = names.some((name) => name.startsWith(`${topic} `)) ? `nix-infra help ${topic}` : 'nix-infra help';
    const lines = [`Error: \`nix-infra ${unknown}\` is not a command`];
    if (guess !== undefined) lines.push(`  hint: did you mean \`nix-infra ${guess}\`?`);
    lines.push(`  hint: run \`${helpFor}\` for the list of commands`);
    process.stderr.write(`${lines.join('\n')}\n`);
    return ExitCode.usage;
  }

  if (shape.parse !== undefined) {
    // oclif names the command on most parse errors; for the others, the longest known prefix of argv.
    const id = shape.parse.input?.context?.id?.replaceAll(':', ' ') ?? knownCommand(context.argv ?? [], context.commandNames?.() ?? []);
    const helpFor = id === undefined ? 'nix-infra help' : `nix-infra ${id} --help`;
    process.stderr.write(`Error: ${message.replace(/\nSee more help with --help$/, '')}\n  hint: run \`${helpFor}\` for usage\n`);
    return ExitCode.usage;
  }

  const stack = error instanceof Error ? error.stack : undefined;
  process.stderr.write(`Error: ${message}\n`);
  if (context.debug && stack) process.stderr.write(`${stack}\n`);
  else process.stderr.write('  hint: this is a bug in nix-infra; re-run with --debug for the stack trace and report it\n');
  return ExitCode.failed;
}

/**
 * The command words an operator typed when oclif found no such command, or undefined. Three
 * sources say so: oclif itself and `help <id>` ("command <id> not found"), and
 * @oclif/plugin-not-found, whose error names only the help to run (the words come from argv).
 */
function unknownCommand(message: string, argv: readonly string[]): string | undefined {
  const named = /^command (\S+) not found\.?$/i.exec(message);
  if (named?.[1] !== undefined) return named[1].replaceAll(':', ' ');
  if (!/for a list of available commands\.?$/.test(message)) return undefined;
  const words = leadingWords(argv);
  return words.length > 0 ? words.join(' ') : undefined;
}

function knownCommand(argv: readonly string[], names: readonly string[]): string | undefined {
  const words = leadingWords(argv);
  for (let n = words.length; n > 0; n--) {
    const candidate = words.slice(0, n).join(' ');
    if (names.includes(candidate)) return candidate;
  }
  return undefined;
}

/** The words before the first flag: the command as typed, perhaps followed by arguments. */
function leadingWords(argv: readonly string[]): string[] {
  const end = argv.findIndex((word) => word.startsWith('-'));
  return [...(end === -1 ? argv : argv.slice(0, end))];
}
