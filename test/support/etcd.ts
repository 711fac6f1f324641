import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * Test helpers for the etcd control-plane tests: a throwaway PKI made with the openssl CLI (on
 * purpose independent of the product's PKI code) and a real etcd 3.4 cluster with mTLS on
 * loopback. Everything lives in one temporary folder; `destroy()` kills every etcd started here
 * (by pid) and removes the folder.
 */

const run = promisify(execFile);

export const ETCD_BIN = '/usr/bin/etcd';
export const ETCDCTL_BIN = '/usr/bin/etcdctl';

export interface CertPair {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: string;
  readonly key: string;
}

export interface TestPki {
  /** Root + intermediate, root first (the product's ca-chain.cert.pem layout). */
  readonly caChainPath: string;
  readonly caChain: string;
  /** One server/peer certificate per member (SAN IP:127.0.0.1, serverAuth + clientAuth). */
  readonly members: readonly CertPair[];
  /** The operator's client certificate (clientAuth, no SANs), issued by the same intermediate. */
  readonly client: CertPair;
  /** A client certificate issued by an unrelated CA: must be rejected by the cluster. */
  readonly foreignClient: CertPair;
  /** The unrelated CA (to check that a server certificate it did not issue is refused). */
  readonly foreignCa: string;
}

const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[root_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[intermediate_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[member]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

async function openssl(cwd: string, args: readonly string[]): Promise<void> {
  await run('openssl', [...args], { cwd });
}

async function newKey(cwd: string, name: string): Promise<string> {
  const keyPath = path.join(cwd, `${name}.key.pem`);
  await openssl(cwd, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyPath]);
  return keyPath;
}

async function selfSigned(cwd: string, name: string, cn: string): Promise<{ certPath: string; keyPath: string }> {
  const keyPath = await newKey(cwd, name);
  const certPath = path.join(cwd, `${name}.cert.pem`);
  await openssl(cwd, ['req', '-config', 'openssl.cnf', '-new', '-x509', '-key', keyPath, '-subj', `/CN=${cn}`, '-days', '2', '-sha256', '-extensions', 'root_ca', '-out', certPath]);
  return { certPath, keyPath };
}

async function issue(
  cwd: string,
  issuer: { certPath: string; keyPath: string },
  name: string,
  cn: string,
  extensions: string,
): Promise<CertPair> {
  const keyPath = await newKey(cwd, name);
  const csrPath = path.join(cwd, `${name}.csr.pem`);
  const certPath = path.join(cwd, `${name}.cert.pem`);
  await openssl(cwd, ['req', '-config', 'openssl.cnf', '-new', '-key', keyPath, '-subj', `/CN=${cn}`, '-out', csrPath]);
  // A member certificate also names its node (DNS:etcd00N), as the product's node certificates
  // do, so a tunnel can check it reached the node it meant to.
  let extfile = 'openssl.cnf';
  if (extensions === 'member') {
    extfile = `${name}.ext.cnf`;
    const dnsName = cn.split(' ')[0] as string;
    await writeFile(path.join(cwd, extfile), OPENSSL_CNF.replace('subjectAltName = IP:127.0.0.1', `subjectAltName = IP:127.0.0.1, DNS:${dnsName}`));
  }
  await openssl(cwd, [
    'x509', '-req', '-in', csrPath, '-CA', issuer.certPath, '-CAkey', issuer.keyPath,
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '2', '-sha256',
    '-extfile', extfile, '-extensions', extensions, '-out', certPath,
  ]);
  return { certPath, keyPath, cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
}

/** Root CA -> intermediate CA -> member and client certificates, plus a foreign CA and client. */
export async function makeTestPki(dir: string, memberCount: number): Promise<TestPki> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'openssl.cnf'), OPENSSL_CNF);
  const root = await selfSigned(dir, 'root', 'Test Root CA');
  const intermediate = await issue(dir, root, 'intermediate', 'Test Intermediate CA', 'intermediate_ca');
  const caChain = (await readFile(root.certPath, 'utf8')) + intermediate.cert;
  const caChainPath = path.join(dir, 'ca-chain.cert.pem');
  await writeFile(caChainPath, caChain);
  const members: CertPair[] = [];
  for (let i = 0; i < memberCount; i++) {
    members.push(await issue(dir, intermediate, `member${i}`, `etcd00${i + 1} client tls`, 'member'));
  }
  const client = await issue(dir, intermediate, 'operator', 'operator client tls', 'client');
  const foreignRoot = await selfSigned(dir, 'foreign-root', 'Some Other Root CA');
  const foreignClient = await issue(dir, foreignRoot, 'foreign-client', 'intruder client tls', 'client');
  return { caChainPath, caChain, members, client, foreignClient, foreignCa: await readFile(foreignRoot.certPath, 'utf8') };
}

/** `count` distinct free TCP ports on 127.0.0.1 (all held open at once, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      servers.push(server);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

export interface EtcdMember {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  /** `127.0.0.1:<clientPort>` */
  readonly endpoint: string;
  readonly pid: number;
  readonly logPath: string;
  /** Kills this member by pid (SIGKILL) and waits until it has exited. */
  kill(): Promise<void>;
  readonly running: boolean;
}

export interface EtcdTestCluster {
  readonly dir: string;
  readonly pki: TestPki;
  readonly members: readonly EtcdMember[];
  readonly endpoints: readonly string[];
  /** Kills every member still running (by pid) and removes the temporary folder. */
  destroy(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function startMember(
  dir: string,
  pki: TestPki,
  index: number,
  clientPort: number,
  peerPort: number,
  initialCluster: string,
  logFd: number,
): ChildProcess {
  const name = `etcd00${index + 1}`;
  const cert = pki.members[index]!;
  const args = [
    '--name', name,
    '--data-dir', path.join(dir, `${name}.data`),
    '--listen-client-urls', `https://127.0.0.1:${clientPort}`,
    '--advertise-client-urls', `https://127.0.0.1:${clientPort}`,
    '--listen-peer-urls', `https://127.0.0.1:${peerPort}`,
    '--initial-advertise-peer-urls', `https://127.0.0.1:${peerPort}`,
    '--initial-cluster', initialCluster,
    '--initial-cluster-state', 'new',
    '--initial-cluster-token', `nix-infra-test-${path.basename(dir)}`,
    '--client-cert-auth', '--trusted-ca-file', pki.caChainPath,
    '--cert-file', cert.certPath, '--key-file', cert.keyPath,
    '--peer-client-cert-auth', '--peer-trusted-ca-file', pki.caChainPath,
    '--peer-cert-file', cert.certPath, '--peer-key-file', cert.keyPath,
    '--logger', 'zap', '--log-outputs', 'stderr', '--log-level', 'warn',
    // Loopback only: short heartbeats make elections after a kill quick.
    '--heartbeat-interval', '50', '--election-timeout', '500',
  ];
  return spawn(ETCD_BIN, args, { stdio: ['ignore', logFd, logFd], env: { PATH: '/usr/bin:/bin' } });
}

/** `etcdctl endpoint health` with the operator certificate; true when every endpoint answered. */
async function healthy(pki: TestPki, endpoints: readonly string[]): Promise<boolean> {
  try {
    await run(ETCDCTL_BIN, [
      `--endpoints=${endpoints.map((e) => `https://${e}`).join(',')}`,
      `--cacert=${pki.caChainPath}`, `--cert=${pki.client.certPath}`, `--key=${pki.client.keyPath}`,
      '--dial-timeout=2s', '--command-timeout=3s', 'endpoint', 'health',
    ], { env: { PATH: '/usr/bin:/bin', ETCDCTL_API: '3' } });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a `size`-member etcd cluster with client and peer mTLS on 127.0.0.1 and waits (bounded)
 * until every member answers a health check.
 */
export async function startEtcdCluster(size = 3, waitMs = 60_000): Promise<EtcdTestCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nix-infra-etcd-'));
  const children: ChildProcess[] = [];
  // Safety net if the test process ends without running its after hooks: no etcd outlives it.
  const onExit = () => {
    for (const child of children) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  };
  process.on('exit', onExit);
  const destroy = async () => {
    await Promise.all(children.map((child) => killChild(child)));
    process.off('exit', onExit);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const pki = await makeTestPki(path.join(dir, 'pki'), size);
    const ports = await freePorts(size * 2);
    const initialCluster = Array.from({ length: size }, (_, i) => `etcd00${i + 1}=https://127.0.0.1:${ports[size + i]}`).join(',');
    const members: EtcdMember[] = [];
    for (let i = 0; i < size; i++) {
      const clientPort = ports[i]!;
      const peerPort = ports[size + i]!;
      const logPath = path.join(dir, `etcd00${i + 1}.log`);
      const log = await open(logPath, 'a');
      const child = startMember(dir, pki, i, clientPort, peerPort, initialCluster, log.fd);
      await log.close();
      children.push(child);
      if (child.pid === undefined) throw new Error(`cannot start ${ETCD_BIN}`);
      const pid = child.pid;
      members.push({
        name: `etcd00${i + 1}`,
        clientPort,
        peerPort,
        endpoint: `127.0.0.1:${clientPort}`,
        pid,
        logPath,
        kill: () => killChild(child),
        get running() {
          return child.exitCode === null && child.signalCode === null;
        },
      });
    }
    const endpoints = members.map((m) => m.endpoint);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const exited = members.find((m) => !m.running);
      if (exited !== undefined) {
        throw new Error(`${exited.name} exited during start-up:\n${await readFile(exited.logPath, 'utf8').catch(() => '')}`);
      }
      if (await healthy(pki, endpoints)) break;
      if (Date.now() > deadline) throw new Error(`etcd cluster not healthy after ${waitMs} ms`);
      await sleep(200);
    }
    return { dir, pki, members, endpoints, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}

/** SIGKILL by pid, then wait (bounded) for the exit event. */
async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 10_000)))]);
  clearTimeout(timer);
}
