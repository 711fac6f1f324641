import type { DistinguishedName } from '../../ports/pki.js';

/**
 * An openssl.cnf for each CA folder, so operators can still run `openssl ca` by hand (revoke,
 * inspect, issue an extra cert). Paths are relative to the CA folder (upstream embedded absolute
 * paths, which broke when a project folder moved): run openssl from inside that folder.
 */
export function opensslConfig(kind: 'root' | 'intermediate', subject: DistinguishedName): string {
  const keyName = kind === 'root' ? 'ca' : 'intermediate';
  const policy = kind === 'root' ? 'policy_strict' : 'policy_loose';
  return `# Written by nix-infra. Paths are relative to this folder: run \`openssl ca -config openssl.cnf ...\` from here.
[ ca ]
default_ca = CA_default

[ CA_default ]
dir               = .
certs             = $dir/certs
crl_dir           = $dir/crl
new_certs_dir     = $dir/newcerts
database          = $dir/index.txt
serial            = $dir/serial
private_key       = $dir/private/${keyName}.key.pem
certificate       = $dir/certs/${keyName}.cert.pem
crlnumber         = $dir/crlnumber
crl               = $dir/crl/${keyName}.crl.pem
crl_extensions    = crl_ext
default_crl_days  = 30
default_md        = sha256
name_opt          = ca_default
cert_opt          = ca_default
default_days      = 375
preserve          = no
policy            = ${policy}

[ policy_strict ]
countryName             = match
stateOrProvinceName     = match
organizationName        = match
commonName              = supplied
emailAddress            = optional

[ policy_loose ]
countryName             = optional
stateOrProvinceName     = optional
organizationName        = optional
commonName              = supplied
emailAddress            = optional

[ req ]
default_bits        = 2048
distinguished_name  = req_distinguished_name
string_mask         = utf8only
default_md          = sha256
x509_extensions     = v3_ca

[ req_distinguished_name ]
countryName                     = Country Name (2 letter code)
stateOrProvinceName             = State or Province Name
organizationName                = Organization Name
commonName                      = Common Name
emailAddress                    = Email Address
countryName_default             = ${subject.country}
stateOrProvinceName_default     = ${subject.state}
0.organizationName_default      = ${subject.organization}
emailAddress_default            = ${subject.email}

[ v3_ca ]
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always,issuer
basicConstraints = critical, CA:true
keyUsage = critical, digitalSignature, cRLSign, keyCertSign

[ v3_intermediate_ca ]
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always,issuer
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, digitalSignature, cRLSign, keyCertSign

[ client_tls ]
basicConstraints = CA:FALSE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
keyUsage = critical, nonRepudiation, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth

[ peer_tls ]
basicConstraints = CA:FALSE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth

[ crl_ext ]
authorityKeyIdentifier = keyid:always
`;
}
