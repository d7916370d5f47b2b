import { createHash } from 'node:crypto';
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../internal/atomic-file.js';
import type { UploadState } from '../../registry/types.js';

/** One persisted upload session: what a later run needs to ask the registry where it stands. */
export interface SavedUpload extends UploadState {
  registry: string;
  repository: string;
  digest: string;
}

/**
 * Upload sessions kept on disk so they survive a restart of gantry:
 * `<stateDir>/uploads/<sha256 of "registry/repository/digest">.json`, written
 * atomically with mode 0600 (the Location is a capability for the session).
 */
export interface UploadStateStore {
  /** The saved session for this blob, or undefined (none, or a file that is not one: it is removed). */
  read(digest: string): Promise<SavedUpload | undefined>;
  write(digest: string, state: UploadState): Promise<void>;
  /** Forget the session; a missing file is fine. */
  remove(digest: string): Promise<void>;
}

export function createUploadStateStore(options: { stateDir: string; registry: string; repository: string }): UploadStateStore {
  const { registry, repository } = options;
  const dir = join(options.stateDir, 'uploads');
  const fileFor = (digest: string): string =>
    join(dir, `${createHash('sha256').update(`${registry}/${repository}/${digest}`).digest('hex')}.json`);

  const remove = async (digest: string): Promise<void> => {
    try {
      await unlink(fileFor(digest));
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
    }
  };

  return {
    async read(digest) {
      let text: string;
      try {
        text = await readFile(fileFor(digest), 'utf8');
      } catch (err) {
        if (errorCode(err) === 'ENOENT') return undefined;
        throw err;
      }
      const saved = parseSaved(text);
      if (saved?.registry === registry && saved.repository === repository && saved.digest === digest) return saved;
      await remove(digest);
      return undefined;
    },
    async write(digest, state) {
      const saved: SavedUpload = { registry, repository, digest, location: state.location, offset: state.offset };
      await writeFileAtomic(fileFor(digest), `${JSON.stringify(saved)}\n`, { mode: 0o600 });
    },
    remove,
  };
}

function parseSaved(text: string): SavedUpload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { registry, repository, digest, location, offset } = value as Record<string, unknown>;
  if (typeof registry !== 'string' || typeof repository !== 'string' || typeof digest !== 'string') return undefined;
  if (typeof location !== 'string' || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return undefined;
  return { registry, repository, digest, location, offset };
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
