/**
 * Validation of state machine definitions with asl-validator (the Amazon States Language's JSON schemas,
 * JSONPath syntax, ARNs of Task resources, transitions and terminal states), for the tests of every reader
 * of the generated definitions.
 */
import { createRequire } from "node:module";

type AslValidator = (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };

// asl-validator ships CommonJS without type declarations.
const validate = createRequire(__filename)("asl-validator") as AslValidator;

/** The validator's errors for `definition` (none: valid). Checks paths and ARNs too. */
export function aslErrors(definition: unknown): string[] {
  // The validator writes defaults into what it is given: it gets a copy.
  const { isValid, errorsText } = validate(structuredClone(definition), { checkPaths: true, checkArn: true });
  return isValid ? [] : errorsText("\n").split("\n");
}
