import { ValidationError } from "../errors.js";

/**
 * The email a lookup in the application's accounts table is made with: any non-empty string (the table is
 * the application's, so what it holds is not ours to judge; a value no row holds simply matches nothing).
 * @throws ValidationError `USER.INVALID` (field `email`), never echoing the value (it is PII).
 */
export function requireLookupEmail(email: unknown): string {
  if (typeof email !== "string" || email === "") {
    throw new ValidationError("USER.INVALID", "email", "must be a non-empty string");
  }
  return email;
}

/**
 * Whether two emails name one person as the pool sees it: equal ignoring case (the pool signs people in by
 * email, case-insensitively), otherwise letter for letter — no accent folding, no trimming.
 */
export function sameEmail(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
