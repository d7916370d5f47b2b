import { expect } from 'vitest';
import { GantryError } from '../../src/errors/index.js';

/** The GantryError `promise` rejects with; fails the test when it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<GantryError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GantryError);
  return err as GantryError;
}
