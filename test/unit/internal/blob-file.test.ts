import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GantryError } from '../../../src/errors/index.js';
import { createDigester } from '../../../src/digest/index.js';
import { writeStagedFile } from '../../../src/internal/blob-file.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('blob-file');
});
afterEach(() => removeTempDir(dir));

describe('writeStagedFile, small content', () => {
  it('ends on an abort that lands while its directories are made, before it reads the body', async () => {
    const controller = new AbortController();
    // A body that never sends anything: only the abort can end the write.
    const body = new Readable({ read() {} });
    const writing = writeStagedFile({
      // Directories not made yet: the write awaits their creation first.
      partialPath: join(dir, 'a', 'b', '.partial', 'x'),
      finalPath: join(dir, 'a', 'b', 'x'),
      digest: `sha256:${'a'.repeat(64)}`,
      size: 1000,
      newHash: () => createDigester('sha256'),
      body,
      from: 0,
      signal: controller.signal,
    });
    queueMicrotask(() => controller.abort(new GantryError('INTERRUPTED', 'interrupted')));
    await expect(writing).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(body.destroyed).toBe(true);
  });
});
