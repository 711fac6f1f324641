import { Flags } from '@oclif/core';
import { UserError } from '../domain/errors.js';

/**
 * The one definition of a numeric flag: a whole number written in decimal digits, within a range
 * every flag must state. oclif's own integer flag accepts a sign and reports failures as a bug
 * (exit 1); here `-1`, `0x10`, `1.5`, `1e3`, ` 5`, `abc` and values past the range are input
 * errors (exit 2) naming the flag and what it allows.
 */
export const wholeNumberFlag = Flags.custom<number, { min: number; max: number }>({
  parse: async (input, _context, flag) => parseWholeNumber(input, `--${flag.name}`, flag.min, flag.max),
});

export function parseWholeNumber(input: string, flag: string, min: number, max: number): number {
  const value = /^\d{1,16}$/.test(input) ? Number(input) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UserError(`${flag} must be a whole number from ${min} to ${max}, not ${JSON.stringify(input)}`);
  }
  return value;
}
