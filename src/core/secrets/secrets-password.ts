import type { PasswordSpec } from '../credentials.js';

/** SECRETS_PASS, with upstream's older SECRETS_PWD still accepted (and warned about). */
export const secretsPassword: PasswordSpec = {
  envKeys: ['SECRETS_PASS'],
  deprecated: { SECRETS_PWD: 'SECRETS_PASS' },
  label: 'secrets password',
};

/** The new password for `secrets rekey`: SECRETS_NEW_PASS, else asked twice. */
export const newSecretsPassword: PasswordSpec = {
  envKeys: ['SECRETS_NEW_PASS'],
  label: 'new secrets password',
  confirm: true,
};
