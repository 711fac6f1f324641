/**
 * Exit codes are part of the CLI's contract with scripts; the README documents them.
 * They follow upstream: 64 for usage errors (EX_USAGE), 2 for invalid input or config.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  invalidInput: 2,
  /** `status`: every host answered, and some are not in sync (drift, failed units, unreachable). */
  notInSync: 3,
  usage: 64,
  /** Stopped by Ctrl-C (128 + SIGINT, as shells report it) or SIGTERM. */
  interrupted: 130,
  /** Another run holds the deploy lock of a target (EX_TEMPFAIL: try again later). */
  locked: 75,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface UserErrorOptions {
  /** Lines that tell the operator what to do next. */
  hints?: readonly string[];
  exitCode?: ExitCode;
  cause?: unknown;
}

/**
 * A problem the operator can fix: bad input, bad config, a wrong password, a failed remote step.
 * Printed as one message plus hints, never with a stack trace (unless --debug).
 * Anything that is not a UserError is a bug and is reported as such.
 */
export class UserError extends Error {
  readonly hints: readonly string[];
  readonly exitCode: ExitCode;

  constructor(message: string, options: UserErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UserError';
    this.hints = options.hints ?? [];
    this.exitCode = options.exitCode ?? ExitCode.invalidInput;
  }
}

/** Invalid command-line usage (unknown flag, missing value): exit 64. */
export class UsageError extends UserError {
  constructor(message: string, hints: readonly string[] = []) {
    super(message, { hints, exitCode: ExitCode.usage });
    this.name = 'UsageError';
  }
}

/** An operation that was attempted and did not succeed (remote failure, aborted prompt): exit 1. */
export class OperationFailed extends UserError {
  constructor(message: string, hints: readonly string[] = []) {
    super(message, { hints, exitCode: ExitCode.failed });
    this.name = 'OperationFailed';
  }
}

/** The operator pressed Ctrl-C (at a prompt, or while remote work ran): exit 130, one line. */
export class Interrupted extends UserError {
  constructor(message = 'interrupted') {
    super(message, { exitCode: ExitCode.interrupted });
    this.name = 'Interrupted';
  }
}

/**
 * A host presented another SSH host key than the one it must have (after a conversion: the key
 * it was given before the reboot). Never retried: another attempt would only meet the same host.
 */
export class HostKeyMismatch extends OperationFailed {
  constructor(message: string, hints: readonly string[] = []) {
    super(message, hints);
    this.name = 'HostKeyMismatch';
  }
}

/** Another operator's run holds the deploy lock of a target: exit 75, nothing was changed. */
export class LockHeld extends UserError {
  constructor(message: string, hints: readonly string[] = []) {
    super(message, { hints, exitCode: ExitCode.locked });
    this.name = 'LockHeld';
  }
}
