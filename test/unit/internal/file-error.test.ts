import { open } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { GantryError } from '../../../src/errors/index.js';
import { asFileError } from '../../../src/internal/file-error.js';

describe('asFileError', () => {
  it('turns a real file-system error into FILE_ERROR with node’s message, the path and a hint', async () => {
    const err = await open('/nonexistent-gantry-dir/file', 'r').catch((e: unknown) => e);
    const fileError = asFileError(err);
    expect(fileError).toBeInstanceOf(GantryError);
    expect(fileError).toMatchObject({ code: 'FILE_ERROR', exitCode: 1, details: { errno: 'ENOENT', syscall: 'open', path: '/nonexistent-gantry-dir/file' } });
    expect(fileError?.message).toBe((err as Error).message);
    expect(fileError?.hint).toMatch(/missing/);
  });

  it('leaves alone what is not a file-system error on a path', () => {
    expect(asFileError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' }))).toBeUndefined();
    expect(asFileError(new TypeError('x is undefined'))).toBeUndefined();
    expect(asFileError('EACCES')).toBeUndefined();
  });
});
