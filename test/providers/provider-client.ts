import type { Credential } from '../../src/credentials/types.js';
import { createRegistryClient, type RegistryClientOptions } from '../../src/registry/index.js';

/**
 * A registry client whose providers' real endpoints are mapped onto loopback
 * msw servers. `map` is keyed by the default base URL the client would use
 * (`https://registry-1.docker.io`), so the host mapping itself is exercised;
 * anything unmapped fails loudly instead of reaching the network. The mapped
 * registries are marked insecure, as plain HTTP on loopback stands in for
 * their HTTPS.
 */
export function providerClient(options: {
  map: Record<string, string>;
  credentials?: Record<string, Credential>;
  extra?: Partial<RegistryClientOptions>;
}) {
  const lookups: string[] = [];
  const lines: string[] = [];
  const registries: string[] = [];
  const client = createRegistryClient({
    version: 'test',
    env: {},
    endpoint: (registry, defaultBase) => {
      const mapped = options.map[defaultBase];
      if (mapped === undefined) throw new Error(`test: no loopback mapping for ${registry} (${defaultBase})`);
      registries.push(registry);
      return mapped;
    },
    insecure: true,
    credentials: async (host) => {
      lookups.push(host);
      return options.credentials?.[host];
    },
    log: (line) => lines.push(line),
    retry: { baseDelayMs: 1, maxDelayMs: 4 },
    ...options.extra,
  });
  return { client, lookups, lines, registries };
}

export async function collect(pages: AsyncIterable<string[]>): Promise<string[][]> {
  const out: string[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}
