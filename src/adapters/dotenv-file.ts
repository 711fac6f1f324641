import { readFileSync, statSync } from 'node:fs';
import { parse } from 'dotenv';
import { checkConfigFileSize } from '../config/file-limits.js';

/** Parses a .env file without touching process.env (dotenv's `config()` would mutate it). */
export function readEnvFile(absPath: string): Record<string, string> {
  checkConfigFileSize(absPath, statSync(absPath).size);
  return parse(readFileSync(absPath));
}
