/**
 * The CA's on-disk layout, relative to the project folder. It is upstream's (openssl `ca`
 * conventions), so existing projects keep working and an operator can still use `openssl ca`.
 */
export const caLayout = {
  root: {
    dir: 'ca',
    subdirs: ['ca/certs', 'ca/crl', 'ca/newcerts', 'ca/private'],
    key: 'ca/private/ca.key.pem',
    cert: 'ca/certs/ca.cert.pem',
    index: 'ca/index.txt',
    serial: 'ca/serial',
    newcerts: 'ca/newcerts',
    opensslConfig: 'ca/openssl.cnf',
  },
  intermediate: {
    dir: 'ca/intermediate',
    subdirs: ['ca/intermediate/certs', 'ca/intermediate/crl', 'ca/intermediate/csr', 'ca/intermediate/newcerts', 'ca/intermediate/private'],
    key: 'ca/intermediate/private/intermediate.key.pem',
    csr: 'ca/intermediate/csr/intermediate.csr.pem',
    cert: 'ca/intermediate/certs/intermediate.cert.pem',
    chain: 'ca/intermediate/certs/ca-chain.cert.pem',
    newcerts: 'ca/intermediate/newcerts',
    index: 'ca/intermediate/index.txt',
    serial: 'ca/intermediate/serial',
    crlnumber: 'ca/intermediate/crlnumber',
    opensslConfig: 'ca/intermediate/openssl.cnf',
  },
} as const;

/** Validity in days, as upstream issues them (20 and 10 years). */
export const caValidityDays = { root: 7300, intermediate: 3650 } as const;
export const caKeyBits = 4096;
export const firstSerial = '1000';
