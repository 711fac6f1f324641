import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AuditRecord } from '../domain/audit.js';
import type { AuditLog } from '../ports/audit-log.js';

/**
 * `<project>/.nix-infra/audit.jsonl`: one JSON record per line. Appends use O_APPEND with one
 * write per record, so two runs finishing at once never interleave inside a line.
 */
export class JsonlAuditLog implements AuditLog {
  readonly file: string;

  constructor(projectDir: string) {
    this.file = path.join(projectDir, '.nix-infra', 'audit.jsonl');
  }

  async append(record: AuditRecord): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await appendFile(this.file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  }

  async read(): Promise<AuditRecord[]> {
    const text = await readFile(this.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    return text.split('\n').flatMap((line) => {
      if (line.trim() === '') return [];
      try {
        return [JSON.parse(line) as AuditRecord];
      } catch {
        return [];
      }
    });
  }
}
