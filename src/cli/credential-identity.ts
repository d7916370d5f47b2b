import { createHash } from 'node:crypto';
import type { Credential } from '../credentials/types.js';

/**
 * Whose hints (BlobLocations) a credential sees: a hash of the whole
 * credential, never stored in the clear; '' when anonymous. Not the username
 * alone: cloud registries give every login the same one (ECR's `AWS`,
 * Google's `oauth2accesstoken`, ACR's zero GUID with a token), as docker keys
 * its metadata by the whole auth config. A rotated password or token starts
 * with no hints, which costs mounts, never correctness.
 */
export function identityKey(registry: string, credential: Credential | undefined): string {
  if (!credential) return '';
  const parts = [credential.username, credential.password, credential.identityToken, credential.registryToken];
  if (parts.every((p) => !p)) return '';
  return createHash('sha256').update(['gantry blob-locations', registry, ...parts.map((p) => p ?? '')].join('\n')).digest('hex').slice(0, 16);
}
