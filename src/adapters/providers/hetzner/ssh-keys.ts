/**
 * Cloud SSH keys (Hetzner's `ssh_keys`): the public keys the API installs for root on new
 * servers. A key is identified by its MD5 fingerprint, computed here the same way the API does,
 * so "same name, same key" can be told from "same name, someone else's key" without trusting names.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../../../domain/errors.js';
import type { CloudSshKey } from '../../../ports/provider.js';
import { field, unexpected, type HetznerClient } from './client.js';
import { MANAGED_BY, MANAGED_BY_KEY } from './labels.js';
import { idOf } from './server-info.js';

const PUBLIC_KEY = /^(\S+)\s+([A-Za-z0-9+/]+={0,2})(?:\s.*)?$/;

/**
 * MD5 of the key blob as colon-separated hex (`aa:bb:...`), the form the API reports. The blob
 * must name the same key type as the line, which catches pasted private keys and truncated lines.
 */
export function md5Fingerprint(publicKey: string): string {
  const match = PUBLIC_KEY.exec(publicKey.trim());
  const type = match?.[1];
  const blob = match?.[2] === undefined ? undefined : Buffer.from(match[2], 'base64');
  const length = blob !== undefined && blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (type === undefined || blob === undefined || length !== type.length || blob.subarray(4, 4 + length).toString('latin1') !== type) {
    throw new UserError('not an OpenSSH public key (expected "<type> <base64> [comment]", e.g. the contents of a .pub file)');
  }
  return createHash('md5').update(blob).digest('hex').replace(/(..)(?!$)/g, '$1:');
}

/** The key the API knows by exactly this name or fingerprint (one filtered request), if any. */
async function findKey(client: HetznerClient, by: 'name' | 'fingerprint', value: string): Promise<unknown> {
  const operation = `looking up SSH key ${by === 'name' ? `"${value}"` : value}`;
  const keys = field(await client.request(operation, 'GET', '/ssh_keys', { query: { [by]: value } }), 'ssh_keys');
  if (!Array.isArray(keys)) throw unexpected(operation, 'no "ssh_keys" list');
  // The filter is exact; check rather than trust it.
  return keys.find((key: unknown) => field(key, by) === value);
}

function fingerprintOf(raw: unknown): string {
  const fingerprint = field(raw, 'fingerprint');
  return typeof fingerprint === 'string' ? fingerprint : '(none reported)';
}

function checkName(name: string): void {
  if (name.trim() === '') throw new UserError('the SSH key name is empty');
}

/** The cloud key servers are created with; a UserError saying how to add it when it is missing. */
export async function requireSshKey(client: HetznerClient, name: string): Promise<void> {
  checkName(name);
  if ((await findKey(client, 'name', name)) === undefined) {
    throw new UserError(`Hetzner Cloud has no SSH key named "${name}"; run \`nix-infra ssh-key add --name ${name}\` first`);
  }
}

export async function addSshKey(client: HetznerClient, name: string, publicKey: string): Promise<{ key: CloudSshKey; added: boolean }> {
  checkName(name);
  const fingerprint = md5Fingerprint(publicKey);
  const sameName = await findKey(client, 'name', name);
  if (sameName !== undefined) {
    const theirs = fingerprintOf(sameName);
    if (theirs === fingerprint) return { key: { name, fingerprint }, added: false };
    throw new UserError(`Hetzner Cloud already has a different SSH key named "${name}" (fingerprint ${theirs}; this key is ${fingerprint})`, {
      hints: ['choose another name, or remove that key if it is really yours'],
    });
  }
  // The API refuses a second copy of a key under another name; say which name has it.
  const sameKey = await findKey(client, 'fingerprint', fingerprint);
  if (sameKey !== undefined) {
    const other = String(field(sameKey, 'name'));
    throw new UserError(`this key (fingerprint ${fingerprint}) is already in Hetzner Cloud under the name "${other}"`, {
      hints: [`Hetzner Cloud keeps each key once; use --name ${other}`],
    });
  }
  const operation = `adding SSH key "${name}"`;
  const body = await client.request(operation, 'POST', '/ssh_keys', {
    body: { name, public_key: publicKey.trim(), labels: { [MANAGED_BY_KEY]: MANAGED_BY } },
  });
  const created = field(body, 'ssh_key');
  if (created === undefined) throw unexpected(operation, 'no "ssh_key" in the answer');
  return { key: { name, fingerprint: fingerprintOf(created) }, added: true };
}

export async function removeSshKey(client: HetznerClient, name: string, publicKey: string): Promise<{ removed: boolean }> {
  checkName(name);
  const fingerprint = md5Fingerprint(publicKey);
  const found = await findKey(client, 'name', name);
  if (found === undefined) return { removed: false };
  const theirs = fingerprintOf(found);
  if (theirs !== fingerprint) {
    throw new UserError(`the SSH key "${name}" in Hetzner Cloud is a different key (fingerprint ${theirs}; this key is ${fingerprint}); not removed`, {
      hints: ['only the holder of that key should remove it'],
    });
  }
  const operation = `removing SSH key "${name}"`;
  await client.request(operation, 'DELETE', `/ssh_keys/${idOf(found, operation, 'SSH key')}`);
  return { removed: true };
}
