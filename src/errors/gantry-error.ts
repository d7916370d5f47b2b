import { type ErrorCode, type ExitCode, exitCodeFor } from './codes.js';

export interface GantryErrorOptions {
  /** One line for people and scripts: what to do about it. */
  hint?: string;
  cause?: unknown;
  /** Extra machine-readable facts (never secrets): shown with --json and --debug. */
  details?: Record<string, unknown>;
}

/**
 * Anything a user can cause or meet. Programmer mistakes stay plain `Error`s.
 * The message is one line and never contains a credential.
 */
export class GantryError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: GantryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GantryError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  get exitCode(): ExitCode {
    return exitCodeFor(this.code);
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export function isGantryError(err: unknown, code?: ErrorCode): err is GantryError {
  return err instanceof GantryError && (code === undefined || err.code === code);
}
