/**
 * Stable error codes and the exit-code table. Scripts match on these strings
 * and on the exit codes; both are documented in docs/errors.md and must only
 * ever grow.
 */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  AUTH: 3,
  NOT_FOUND: 4,
  INTEGRITY: 5,
  NETWORK: 6,
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Every code a GantryError may carry, with the exit code it maps to. */
export const ERROR_CODES = {
  USAGE: ExitCode.USAGE,
  REFERENCE_INVALID: ExitCode.USAGE,
  PLATFORM_INVALID: ExitCode.USAGE,
  SEMVER_RANGE_INVALID: ExitCode.USAGE,
  CONFIG_INVALID: ExitCode.USAGE,
  DIGEST_INVALID: ExitCode.USAGE,
  AUTH_REQUIRED: ExitCode.AUTH,
  AUTH_DENIED: ExitCode.AUTH,
  AUTH_FAILED: ExitCode.AUTH,
  INSECURE_CREDENTIALS: ExitCode.AUTH,
  CREDENTIAL_HELPER_FAILED: ExitCode.AUTH,
  CREDENTIAL_STORE_FAILED: ExitCode.AUTH,
  KEYCHAIN_UNAVAILABLE: ExitCode.AUTH,
  NOT_FOUND: ExitCode.NOT_FOUND,
  MANIFEST_UNKNOWN: ExitCode.NOT_FOUND,
  NAME_UNKNOWN: ExitCode.NOT_FOUND,
  BLOB_UNKNOWN: ExitCode.NOT_FOUND,
  PLATFORM_NOT_FOUND: ExitCode.NOT_FOUND,
  DIGEST_MISMATCH: ExitCode.INTEGRITY,
  SIZE_MISMATCH: ExitCode.INTEGRITY,
  MANIFEST_INVALID: ExitCode.INTEGRITY,
  NETWORK: ExitCode.NETWORK,
  TLS: ExitCode.NETWORK,
  TIMEOUT: ExitCode.NETWORK,
  RATE_LIMITED: ExitCode.FAILURE,
  REGISTRY_ERROR: ExitCode.FAILURE,
  UNSUPPORTED: ExitCode.FAILURE,
  UNSUPPORTED_MEDIA_TYPE: ExitCode.FAILURE,
  LOCK_TIMEOUT: ExitCode.FAILURE,
  FILE_ERROR: ExitCode.FAILURE,
  INTERRUPTED: ExitCode.INTERRUPTED,
  INTERNAL: ExitCode.FAILURE,
} as const satisfies Record<string, ExitCode>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The exit code for an error code; unknown codes are plain failures. */
export function exitCodeFor(code: string): ExitCode {
  return (ERROR_CODES as Record<string, ExitCode>)[code] ?? ExitCode.FAILURE;
}
