import type { AuditRecord } from '../domain/audit.js';

/** Where a project keeps its audit trail (`<project>/.nix-infra/audit.jsonl`). */
export interface AuditLog {
  /** Appends one record as one line; never rewrites what is there. */
  append(record: AuditRecord): Promise<void>;
  /** Every record, oldest first; lines that do not parse are skipped. */
  read(): Promise<AuditRecord[]>;
}
