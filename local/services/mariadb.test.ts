import { describe, expect, it } from "vitest";
import { findMariaDb, startMariaDb } from "./mariadb.js";

const installed = findMariaDb() !== undefined;

describe("startMariaDb's refusals", () => {
  // The names and the password are written into the server's init file, one SQL statement a line.
  it.skipIf(!installed)(
    "refuses a database name that is not letters, digits or underscores, before starting anything (skipped: mariadb-server is not installed)",
    async () => {
      await expect(startMariaDb({ database: "life`cycle" })).rejects.toThrow(/database must be/);
      await expect(startMariaDb({ database: "" })).rejects.toThrow(/database must be/);
    },
  );

  it.skipIf(!installed)(
    "refuses a user or password with a line break (skipped: mariadb-server is not installed)",
    async () => {
      await expect(startMariaDb({ password: "a\nDROP USER x" })).rejects.toThrow(/line breaks/);
      await expect(startMariaDb({ user: "a\rb" })).rejects.toThrow(/line breaks/);
    },
  );
});
