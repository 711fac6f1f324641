import { UserError } from './errors.js';

/**
 * Name rules shared by config validation and commands. Kept in one place so that a node name
 * accepted in servers.yaml is accepted by --target, and a secret name can never address a path
 * outside secrets/.
 */

/** RFC 1123 label: 1-63 chars, letters/digits/hyphen, no leading or trailing hyphen. */
const HOSTNAME_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

export function isHostnameLabel(name: string): boolean {
  return HOSTNAME_LABEL.test(name);
}

/**
 * Tags, roles and tiers: short words usable in selectors (`@eu`, `role:web`) and as Hetzner label
 * values (1-63 chars, alphanumerics with `.`, `_`, `-` between).
 */
const ATTRIBUTE_WORD = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

export function isAttributeWord(value: string): boolean {
  return ATTRIBUTE_WORD.test(value);
}

const SECRET_NAME = /^[A-Za-z0-9._-]+$/;

/** Returns why `name` is not a valid secret name, or undefined when it is valid. */
export function secretNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'a secret name cannot be empty';
  if (name.length > 200) return 'a secret name is at most 200 characters';
  if (!SECRET_NAME.test(name)) return 'a secret name may only contain letters, digits, ".", "_" and "-"';
  if (name.includes('..')) return 'a secret name may not contain ".."';
  if (name.startsWith('.')) return 'a secret name may not start with "." (reserved for temporary files)';
  return undefined;
}

/** Key names become file names under ssh/ and labels in cloud accounts: keep them plain. */
export function checkSshKeyName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name) || name.includes('..')) {
    throw new UserError(`ssh key name ${JSON.stringify(name)}: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
}

/** An app module is a folder directly under app_modules/. */
export function checkModuleName(name: string, flag: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.includes('..')) {
    throw new UserError(`${flag}: ${JSON.stringify(name)} is not a module folder name (letters, digits, ".", "_", "-")`);
  }
}

/** Environment variable names a shell accepts. */
export function isEnvName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
