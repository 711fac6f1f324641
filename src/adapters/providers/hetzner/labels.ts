/**
 * Ownership labels: what nix-infra writes on every cloud resource it creates, and the only thing
 * it trusts before it deletes one or counts one as already there. A name alone proves nothing: a
 * colleague, another tool or another nix-infra project in the same Hetzner project may use it.
 */
import { UserError } from '../../../domain/errors.js';
import type { NodeAttributes, OwnershipLabels } from '../../../ports/provider.js';
import { field } from './client.js';

export const MANAGED_BY_KEY = 'managed-by';
export const MANAGED_BY = 'nix-infra';
/** Prefixed keys (`prefix/name`) are valid Hetzner label keys and cannot clash with a bare `project`. */
export const PROJECT_KEY = 'nix-infra/project';
export const ROLE_KEY = 'nix-infra/role';

/**
 * Hetzner's rule for label values: at most 63 characters, alphanumerics with `-`, `_` and `.`
 * between, starting and ending with an alphanumeric. The API also allows an empty value, but an
 * empty project or role would identify nothing, so nix-infra refuses it.
 */
const LABEL_VALUE = /^[a-zA-Z0-9](?:[a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])?$/;

function checkValue(key: string, value: string): string {
  if (!LABEL_VALUE.test(value)) {
    throw new UserError(`label ${key}=${JSON.stringify(value)} is not a valid Hetzner label value`, {
      hints: ['1 to 63 characters: letters, digits, "-", "_" and ".", starting and ending with a letter or digit'],
    });
  }
  return value;
}

/** Checks both values up front, so a bad one fails before any request is sent. */
export function checkOwnershipLabels(labels: OwnershipLabels): void {
  checkValue(PROJECT_KEY, labels.project);
  checkValue(ROLE_KEY, labels.role);
}

/** Labels for resources shared by a project's servers (placement groups). */
export function projectLabels(labels: OwnershipLabels): Record<string, string> {
  return { [MANAGED_BY_KEY]: MANAGED_BY, [PROJECT_KEY]: labels.project };
}

/** Labels for a server: the project's, plus the role it was created as. */
export function serverLabels(labels: OwnershipLabels): Record<string, string> {
  return { ...projectLabels(labels), [ROLE_KEY]: labels.role };
}

/** Whose a resource is, as its labels say. */
export type Ownership =
  | { readonly kind: 'ours' }
  /** Labelled by another nix-infra project (another project id): never ours to take. */
  | { readonly kind: 'other-project'; readonly owner: string }
  /** No nix-infra labels (the upstream tool, the Console, another tool): adoptable. */
  | { readonly kind: 'unlabelled' };

export function ownershipOf(raw: unknown, project: string): Ownership {
  const managedBy = field(raw, 'labels', MANAGED_BY_KEY);
  const owner = field(raw, 'labels', PROJECT_KEY);
  if (managedBy === MANAGED_BY && owner === project) return { kind: 'ours' };
  if (managedBy === MANAGED_BY && typeof owner === 'string') return { kind: 'other-project', owner };
  return { kind: 'unlabelled' };
}

/**
 * Why a resource (server, placement group) as the API describes it is not this project's, or
 * undefined when it is: labelled managed-by=nix-infra with the same project.
 */
export function notOurs(raw: unknown, project: string): string | undefined {
  const ownership = ownershipOf(raw, project);
  if (ownership.kind === 'ours') return undefined;
  if (ownership.kind === 'other-project') return `it belongs to nix-infra project "${ownership.owner}", not "${project}"; left alone`;
  return `it was not created by this nix-infra project (no ${MANAGED_BY_KEY}=${MANAGED_BY}, ${PROJECT_KEY}=${project} labels); left alone`;
}

/** The command that labels an unlabelled server as this project's (servers adopt). */
export function adoptCommand(name: string, role: string): string {
  return `nix-infra servers adopt --target ${name} --role ${role}`;
}

/**
 * notOurs for a server the operator named (provision, destroy): an unlabelled one may be this
 * project's, made by the upstream tool or by hand, so the reason says how to adopt it.
 */
export function serverNotOurs(raw: unknown, name: string, labels: OwnershipLabels): string | undefined {
  const reason = notOurs(raw, labels.project);
  if (reason === undefined || ownershipOf(raw, labels.project).kind !== 'unlabelled') return reason;
  return `${reason}. If it is this project's server (made by the upstream tool or by hand), adopt it: \`${adoptCommand(name, labels.role)}\``;
}

/**
 * Inventory attributes as labels. `nix-infra/role` already says fleet or cluster (what the
 * server was created as), so the operator's role is `nix-infra/node-role`; each tag is its own
 * label `nix-infra-tag/<tag>=true`, since a label value cannot hold a list.
 */
export const NODE_ROLE_KEY = 'nix-infra/node-role';
export const TIER_KEY = 'nix-infra/tier';
export const TAG_PREFIX = 'nix-infra-tag/';

export function attributeLabels(attributes: NodeAttributes | undefined): Record<string, string> {
  if (attributes === undefined) return {};
  const labels: Record<string, string> = {};
  if (attributes.role !== undefined) labels[NODE_ROLE_KEY] = checkValue(NODE_ROLE_KEY, attributes.role);
  if (attributes.tier !== undefined) labels[TIER_KEY] = checkValue(TIER_KEY, attributes.tier);
  for (const tag of attributes.tags ?? []) labels[`${TAG_PREFIX}${checkValue(TAG_PREFIX, tag)}`] = 'true';
  return labels;
}

/** The attributes a server's labels carry (what attributeLabels wrote). */
export function attributesFromLabels(raw: unknown): NodeAttributes {
  const labels = field(raw, 'labels');
  if (typeof labels !== 'object' || labels === null) return {};
  const entries = Object.entries(labels as Record<string, unknown>);
  const text = (key: string): string | undefined => {
    const value = (labels as Record<string, unknown>)[key];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const tags = entries.filter(([key]) => key.startsWith(TAG_PREFIX)).map(([key]) => key.slice(TAG_PREFIX.length)).sort();
  const role = text(NODE_ROLE_KEY);
  const tier = text(TIER_KEY);
  return { ...(tags.length === 0 ? {} : { tags }), ...(role === undefined ? {} : { role }), ...(tier === undefined ? {} : { tier }) };
}
