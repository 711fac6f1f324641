import { UserError } from '../domain/errors.js';

/**
 * Configuration files are a few kilobytes. Anything past this is not a servers.yaml or .env
 * written by hand, and parsing it would cost minutes and gigabytes (a 50 MB servers.yaml took
 * 89 s and 2.6 GB), so it is refused by its size before it is read.
 */
export const CONFIG_FILE_MAX_BYTES = 1024 * 1024;

export function checkConfigFileSize(file: string, bytes: number): void {
  if (bytes > CONFIG_FILE_MAX_BYTES) {
    throw new UserError(`${file}: ${(bytes / 2 ** 20).toFixed(1)} MB is larger than the 1 MB a configuration file may have; it was not read`, {
      hints: ['check that this is the file you meant'],
    });
  }
}
