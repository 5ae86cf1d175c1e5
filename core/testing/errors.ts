/** Test support for asserting on errors. */
import { ValidationError } from "../errors.js";

/**
 * The error `action` throws, which must be an instance of `kind` (a ValidationError unless told otherwise);
 * fails the test when it throws nothing or something else.
 */
export function errorOf<E extends Error = ValidationError>(
  action: () => unknown,
  kind: abstract new (...args: never[]) => E = ValidationError as unknown as abstract new (
    ...args: never[]
  ) => E,
): E {
  try {
    action();
  } catch (error) {
    if (error instanceof kind) return error;
    throw error;
  }
  throw new Error(`expected a ${kind.name}`);
}

/**
 * The error `promise` rejects with, which must be an instance of `kind` (any Error unless told otherwise);
 * fails the test when it resolves or rejects with something else.
 */
export async function rejectionOf<E extends Error = Error>(
  promise: Promise<unknown>,
  kind: abstract new (...args: never[]) => E = Error as unknown as abstract new (...args: never[]) => E,
): Promise<E> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof kind) return error;
    throw error;
  }
  throw new Error(`expected a rejection with a ${kind.name}`);
}
