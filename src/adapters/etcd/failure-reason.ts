import {
  EtcdPermissionDeniedError,
  GRPCAlreadyExistsError,
  GRPCDeadlineExceededError,
  GRPCFailedPreconditionError,
  GRPCInvalidArgumentError,
  GRPCNotFoundError,
  GRPCNotImplementedError,
  GRPCOutOfRangeError,
  GRPCResourceExhastedError,
  GRPCUnauthenticatedError,
} from 'etcd3';

/**
 * Turns what etcd3/grpc-js reject with into a short reason an operator can act on, and decides
 * whether the next endpoint is worth trying. grpc-js wraps connection problems as
 * `14 UNAVAILABLE: No connection established. Last error: <the real error>. Resolution note: `,
 * so the interesting part is cut out of that text.
 */

export type FailureKind =
  /** The server refused our client certificate. */
  | 'client-certificate'
  /** We refused the server's certificate (unknown CA, wrong name, expired). */
  | 'server-certificate'
  /** No usable connection, no answer in time, or etcd could not serve (no leader). */
  | 'unreachable'
  /** etcd answered with an error every member would give (bad request, permission). */
  | 'answer';

export interface ClassifiedFailure {
  readonly kind: FailureKind;
  readonly reason: string;
  /** False for answers: every member would say the same, so stop at once. */
  readonly tryNext: boolean;
}

/** Errors that are an answer from etcd, not a sign that this endpoint is unusable. */
const ANSWERS = [
  GRPCInvalidArgumentError,
  GRPCNotFoundError,
  GRPCAlreadyExistsError,
  EtcdPermissionDeniedError,
  GRPCResourceExhastedError,
  GRPCFailedPreconditionError,
  GRPCOutOfRangeError,
  GRPCNotImplementedError,
  GRPCUnauthenticatedError,
];

function innerMessage(message: string): string {
  let text = message.replace(/^\d+ [A-Z_]+: /, '');
  const last = /Last error: (?:Error: )?([\s\S]*?)\.?(?: Resolution note:[\s\S]*)?$/.exec(text);
  if (text.startsWith('No connection established') && last?.[1] !== undefined) text = last[1];
  return text.replace(/\s+/g, ' ').trim();
}

export function classifyFailure(err: unknown, timeoutMs: number): ClassifiedFailure {
  const message = err instanceof Error ? err.message : String(err);
  const inner = innerMessage(message);
  const unreachable = (reason: string): ClassifiedFailure => ({ kind: 'unreachable', reason, tryNext: true });
  if (err instanceof GRPCDeadlineExceededError || /deadline exceeded/i.test(message)) {
    return unreachable(`no answer within ${Math.round(timeoutMs / 100) / 10} s`);
  }
  const alert = /alert (bad certificate|certificate unknown|unknown ca|certificate required|unsupported certificate|certificate expired|certificate revoked|access denied)/i.exec(inner);
  if (alert !== null || /SSL alert number (4[2-9]|116)/.test(inner)) {
    return {
      kind: 'client-certificate',
      reason: `TLS: the server rejected our client certificate (${alert?.[1] ?? 'handshake alert'})`,
      tryNext: true,
    };
  }
  const detail = inner.replace(/^Error \[[A-Z_]+\]: /, '');
  if (/ERR_TLS_CERT_ALTNAME_INVALID|does not match certificate's altnames|is not in the cert's list/i.test(inner)) {
    return { kind: 'server-certificate', reason: `TLS: the server's certificate is not issued for this address (${detail})`, tryNext: true };
  }
  if (/unable to verify|self[- ]signed|unable to get (local )?issuer|certificate has expired|certificate is not yet valid|certificate signature failure/i.test(inner)) {
    return { kind: 'server-certificate', reason: `TLS: the server's certificate is not trusted (${detail})`, tryNext: true };
  }
  if (/ECONNREFUSED/.test(inner)) return unreachable('connection refused (is etcd running there?)');
  if (/ECONNRESET|socket hang up|Connection dropped|Connection closed|Client network socket disconnected|ended by the other party|EPIPE/i.test(inner)) {
    return unreachable(`the connection was closed before etcd answered (${inner})`);
  }
  if (ANSWERS.some((kind) => err instanceof kind)) return { kind: 'answer', reason: inner, tryNext: false };
  return unreachable(inner);
}

/** Hints for an error where no endpoint answered, from the kinds of failure seen. */
export function failureHints(kinds: readonly FailureKind[]): string[] {
  if (kinds.length > 0 && kinds.every((k) => k === 'client-certificate')) {
    return ['the client certificate must be issued by the cluster CA (ca/intermediate) and carry clientAuth'];
  }
  if (kinds.includes('server-certificate')) {
    return ["the CA chain must be the cluster's (ca/intermediate/certs/ca-chain.cert.pem), and node certificates must carry IP:127.0.0.1"];
  }
  return ['check that etcd runs on the control nodes (systemctl status etcd) and that they are reachable over SSH'];
}
