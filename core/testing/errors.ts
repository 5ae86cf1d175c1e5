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
