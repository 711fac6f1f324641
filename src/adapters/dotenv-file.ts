import { readFileSync } from 'node:fs';
import { parse } from 'dotenv';

/** Parses a .env file without touching process.env (dotenv's `config()` would mutate it). */
export function readEnvFile(absPath: string): Record<string, string> {
  return parse(readFileSync(absPath));
}
