import { join } from 'node:path';
import { createDockerCredentials, type DockerCredentials } from '../credentials/index.js';
import type { CredentialSource } from '../credentials/types.js';
import { identityKey } from './credential-identity.js';
import { createRegistryClient } from '../registry/index.js';
import type { RegistryClient } from '../registry/types.js';
import { stateDir } from '../transports/local-store/index.js';
import { createBlobLocations, type BlobLocations } from '../transports/registry/index.js';
import type { CliIo } from './io.js';
import { Output } from './output.js';
import { loadSettings, type Settings } from './settings.js';
import { VERSION } from './version.js';
import { GantryError } from '../errors/index.js';

/** The options every command accepts (commander's globals). */
export interface GlobalOptions {
  debug?: boolean;
  color?: boolean;
  insecure?: boolean;
  caFile?: string;
}

/**
 * What a command gets to work with: output, settings, and lazily built
 * credentials and registry client (a command like `ref` never opens either).
 */
export class CommandContext {
  readonly io: CliIo;
  readonly globals: GlobalOptions;
  readonly signal: AbortSignal;
  private settingsPromise: Promise<Settings> | undefined;
  private credentialsValue: DockerCredentials | undefined;
  private keychainEnabled = false;
  private requestRates: Readonly<Record<string, number>> | undefined;
  private clientPromise: Promise<RegistryClient> | undefined;
  /** Blobs this command's registry targets found or put there (RegistryTargetOptions.present). */
  readonly blobsPresent = new Set<string>();
  private locations: BlobLocations | undefined;
  private readonly credentialLookups = new Map<string, Promise<CredentialSource | undefined>>();

  constructor(io: CliIo, globals: GlobalOptions, signal: AbortSignal) {
    this.io = io;
    this.globals = globals;
    this.signal = signal;
  }

  /** @throws GantryError USAGE for --json with --quiet: a script asking for both would get one silently. */
  output(options: { json?: boolean; quiet?: boolean } = {}): Output {
    if (options.json === true && options.quiet === true) {
      throw new GantryError('USAGE', '--json and --quiet ask for two different outputs', {
        hint: 'Use --json for the whole result, or -q for the digest alone (jq -r .digest reads it from --json).',
      });
    }
    return new Output(this.io, { ...options, color: this.globals.color });
  }

  settings(): Promise<Settings> {
    this.settingsPromise ??= loadSettings(this.io.env);
    return this.settingsPromise;
  }

  /**
   * Docker's credential stores; gantry's keychain entries are consulted when
   * the settings say so (`login --store keychain` records that choice).
   */
  async credentials(options: { keychain?: boolean } = {}): Promise<DockerCredentials> {
    const settings = await this.settings();
    const keychain = options.keychain === true || settings.credentialsStore === 'keychain';
    if (!this.credentialsValue || (keychain && !this.keychainEnabled)) {
      this.credentialLookups.clear();
      this.credentialsValue = createDockerCredentials({ env: this.io.env, keychain });
      this.keychainEnabled = keychain;
    }
    return this.credentialsValue;
  }

  /** Debug lines go to stderr; the client redacts them before they get here. */
  debugLog(): ((line: string) => void) | undefined {
    if (!this.globals.debug) return undefined;
    return (line: string) => this.io.stderr.write(`debug: ${line}\n`);
  }

  /**
   * Pace requests per registry host (mirror files' `rps`). Takes effect for
   * the client made after it: call before the first `client()`.
   */
  setRequestRates(rates: Readonly<Record<string, number>>): void {
    if (this.clientPromise) throw new Error('setRequestRates after the registry client was made');
    this.requestRates = rates;
  }

  client(): Promise<RegistryClient> {
    this.clientPromise ??= (async () => {
      const settings = await this.settings();
      const credentials = await this.credentials();
      const caFile = this.globals.caFile ?? settings.caFile;
      return createRegistryClient({
        version: VERSION,
        credentials: async (host: string) => (await this.credentialFor(host, credentials))?.credential,
        insecure: this.globals.insecure ? true : settings.insecureRegistries,
        ...(caFile ? { caFile } : {}),
        ...(this.debugLog() ? { log: this.debugLog() } : {}),
        env: this.io.env,
        endpoint: (registry: string) => settings.registryEndpoints[registry]?.replace(/\/+$/, ''),
        ...(this.requestRates ? { requestRates: this.requestRates } : {}),
      });
    })();
    return this.clientPromise;
  }

  /**
   * The stored credential for `host`, looked up once per command: the client
   * and the blob-location hints both need it, and a credential helper is a
   * process to start.
   */
  private credentialFor(host: string, credentials: DockerCredentials): Promise<CredentialSource | undefined> {
    // Only lookups through the current stores are shared (login may switch to the keychain).
    if (this.credentialsValue !== credentials) return credentials.get(host);
    let lookup = this.credentialLookups.get(host);
    if (lookup === undefined) {
      const started = credentials.get(host);
      lookup = started;
      this.credentialLookups.set(host, started);
      // A failed lookup is asked again next time (a helper's hiccup), as the authenticator expects.
      started.catch(() => {
        if (this.credentialLookups.get(host) === started) this.credentialLookups.delete(host);
      });
    }
    return lookup;
  }

  /** Where blobs were seen in registries, kept across commands (saved by `close`). */
  blobLocations(): BlobLocations {
    this.locations ??= createBlobLocations({
      file: join(stateDir(this.io.env), 'blob-locations.json'),
      identity: async (registry) => identityKey(registry, (await this.credentialFor(registry, await this.credentials()))?.credential),
      ...(this.debugLog() ? { log: this.debugLog() } : {}),
    });
    return this.locations;
  }

  async close(): Promise<void> {
    try {
      await this.locations?.save();
    } catch (err) {
      // A hint for later pushes: losing it costs a mount, never this command's result.
      this.debugLog()?.(`blob locations not saved: ${(err as Error).message}`);
    }
    if (this.clientPromise) await (await this.clientPromise).close();
  }
}
