import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AuditLog, AuditRecord } from '../ports/audit-log.js';

/**
 * `<project>/.nix-infra/audit.jsonl`: one JSON object per line, appended with O_APPEND so
 * concurrent writers never interleave within a line (each line is one write well under
 * PIPE_BUF-sized atomic-append limits of local filesystems). Owner-only: it names hosts and users.
 */
export class JsonlAuditLog implements AuditLog {
  constructor(private readonly projectDir: string) {}

  get file(): string {
    return path.join(this.projectDir, '.nix-infra', 'audit.jsonl');
  }

  async append(record: AuditRecord): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await appendFile(this.file, `${JSON.stringify(record)}\n`, { mode: 0o600, flag: 'a' });
  }
}
