import { createHash } from 'node:crypto';
import { UserError } from '../../domain/errors.js';

/** Hetzner (Kubernetes-style) label value: up to 63 of [A-Za-z0-9._-], alphanumeric at both ends. */
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)$/;

/**
 * The value of the `nix-infra/project` label on every server this project creates. Set
 * NIX_INFRA_PROJECT to choose it; otherwise it is derived from the project's SSH public key,
 * which every checkout that can reach the servers shares (a folder name would differ between a
 * laptop and CI). See docs/decisions/0007-ownership-labels.md.
 */
export function projectLabel(explicit: string | undefined, publicKey: string): string {
  if (explicit !== undefined) {
    if (!LABEL_VALUE.test(explicit)) {
      throw new UserError(`NIX_INFRA_PROJECT: ${JSON.stringify(explicit)} is not a valid label value`, {
        hints: ['use up to 63 letters, digits, ".", "_" or "-", starting and ending with a letter or digit'],
      });
    }
    return explicit;
  }
  const blob = publicKey.trim().split(/\s+/)[1];
  if (blob === undefined || blob === '') throw new UserError('the project SSH public key is empty or malformed, so no project label can be derived from it');
  return `key-${createHash('sha256').update(Buffer.from(blob, 'base64')).digest('hex').slice(0, 16)}`;
}
