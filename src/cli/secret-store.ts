import path from 'node:path';
import { FsSecretStore } from '../adapters/secret-store/fs-secret-store.js';

/**
 * Test hook, read here at the composition root only: the crash-safety test stops `secrets rekey`
 * with SIGKILL after the k-th file operation of its switch (see CrashPoints). Unset in real use.
 */
export const CRASH_AFTER_OPS_ENV = 'NIX_INFRA_TEST_CRASH_AFTER_FS_OPS';

/** The project's `secrets/` store. */
export function openSecretStore(workingDir: string): FsSecretStore {
  const raw = process.env[CRASH_AFTER_OPS_ENV];
  const crashAfterOps = raw !== undefined && /^[1-9][0-9]{0,5}$/.test(raw) ? Number(raw) : undefined;
  return new FsSecretStore(path.join(workingDir, 'secrets'), crashAfterOps === undefined ? {} : { crashAfterOps });
}
