/** Readable test data. Used by tests and contract suites only. */
import { makeUser, type User } from "../user/user.js";

let counter = 0;

/** A confirmed, verified, enabled user with a unique username, sub and email. */
export function aUser(overrides: Partial<User> = {}): User {
  counter += 1;
  const n = counter.toString().padStart(6, "0");
  const sub = overrides.sub ?? `00000000-0000-4000-8000-${n.padStart(12, "0")}`;
  const username = overrides.username ?? `user-${n}`;
  return makeUser({
    username,
    sub,
    createdAt: new Date("2026-01-01T00:00:00.000Z"),
    modifiedAt: new Date("2026-01-01T00:00:00.000Z"),
    ...overrides,
    attributes: {
      email: `user-${n}@example.com`,
      email_verified: "true",
      ...(overrides.attributes ?? {}),
    },
  });
}
