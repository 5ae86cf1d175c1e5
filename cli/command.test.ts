import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { flagOf, parseOptions, UsageError } from "./command.js";

describe("a command's options, checked by its own schema", () => {
  const schema = z.strictObject({ dryRun: z.optional(z.boolean()), maxDeletions: z.optional(z.number()) });

  it("passes what the schema allows", () => {
    expect(parseOptions(schema, { dryRun: true, maxDeletions: 3 })).toEqual({
      dryRun: true,
      maxDeletions: 3,
    });
  });

  it("refuses an option the command does not declare, naming it as a flag", () => {
    const error = (() => {
      try {
        parseOptions(schema, { dryRun: true, deleteEverything: true });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe("unknown option --delete-everything: nothing was run");
  });

  it("refuses a value of the wrong type, naming the flag", () => {
    expect(() => parseOptions(schema, { maxDeletions: "3" })).toThrow(/^--max-deletions: /);
  });

  it("names keys as flags", () => {
    expect(flagOf("targetPool")).toBe("--target-pool");
    expect(flagOf("json")).toBe("--json");
  });
});
