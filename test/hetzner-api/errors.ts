// The error envelope and the status -> code table, so every failure the fake produces (real or
// injected) looks like one the documented API would send.
//
// Codes and statuses checked against the Hetzner Cloud API reference ("Errors" section, as mirrored
// in the generated openapi-client README): 400 json_error, 401 unauthorized, 403 forbidden /
// resource_limit_exceeded, 404 not_found, 405 method_not_allowed, 409 uniqueness_error / conflict,
// 412 resource_unavailable, 422 invalid_input / service_error, 423 locked, 429 rate_limit_exceeded,
// 500 server_error, 503 unavailable, 504 timeout. `placement_error` (422) is an operation-specific
// error of POST /servers ("An error during the placement occurred").

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details: Record<string, unknown> };
}

const defaultCodes: Readonly<Record<number, string>> = {
  400: 'json_error',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  412: 'resource_unavailable',
  422: 'invalid_input',
  423: 'locked',
  429: 'rate_limit_exceeded',
  500: 'server_error',
  503: 'unavailable',
  504: 'timeout',
};

/** The code the API documents for a status, for injected faults that name only a status. */
export function defaultCode(status: number): string {
  return defaultCodes[status] ?? (status >= 500 ? 'server_error' : 'invalid_input');
}

/** Thrown by handlers; the HTTP layer turns it into the envelope. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** 422 invalid_input naming the offending field, in the documented `details.fields` form. */
export function invalidInput(field: string, problem: string): ApiError {
  return new ApiError(422, 'invalid_input', `invalid input in field '${field}': ${problem}`, {
    fields: [{ name: field, messages: [problem] }],
  });
}

export function notFound(what: string): ApiError {
  return new ApiError(404, 'not_found', `${what} not found`);
}

export function notUnique(field: string, message: string): ApiError {
  return new ApiError(409, 'uniqueness_error', message, { fields: [{ name: field }] });
}
