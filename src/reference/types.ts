/**
 * A parsed, normalized image reference. Made only by `parseReference`, so a
 * value of this type always satisfies docker's grammar.
 */
export interface Reference {
  /** Normalized registry host, with port when given: `docker.io`, `ghcr.io`, `localhost:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** Normalized repository path: `library/alpine`, `org/app`. */
  readonly repository: string;
  /** The tag when the input had one; no implied `latest`. */
  readonly tag?: string;
  /** `algorithm:hex` when the input had a digest. */
  readonly digest?: string;
}
