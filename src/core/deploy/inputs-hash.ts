import { createHash } from 'node:crypto';
import { selectParts, type DeployPlan, type PlannedFile } from './plan.js';

/**
 * One digest of what a deploy part puts on a node: each file's path, mode and content, and the
 * names of the secrets it references (values are compared by the secrets manifest, which needs
 * the password; a status without it still sees a secret added or dropped).
 */
export function inputsHash(files: readonly PlannedFile[], secretNames: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.remotePath < b.remotePath ? -1 : a.remotePath > b.remotePath ? 1 : 0))) {
    hash.update(`file ${file.remotePath} ${file.mode.toString(8)} ${createHash('sha256').update(file.content).digest('hex')}\n`);
  }
  for (const name of [...secretNames].sort()) hash.update(`secret ${name}\n`);
  return hash.digest('hex');
}

/** The digest of one part of a node's plan, as a deploy of that part writes it. */
export function partInputsHash(plan: DeployPlan, node: string, part: 'system' | 'apps'): string {
  const selected = selectParts(plan, node, part);
  return inputsHash([...selected.files, ...selected.appModules], selected.secrets);
}
