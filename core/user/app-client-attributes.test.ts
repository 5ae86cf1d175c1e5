import { describe, expect, it } from "vitest";
import { APP_CLIENT_READ_ATTRIBUTES, APP_CLIENT_WRITE_ATTRIBUTES } from "./app-client-attributes.js";
import { LEGACY_SUB_ATTRIBUTE } from "./user.js";

describe("the app client's attribute lists", () => {
  it("never let users write their stable id, their sub or a verified flag", () => {
    for (const name of [LEGACY_SUB_ATTRIBUTE, "sub", "email_verified", "phone_number_verified"]) {
      expect(APP_CLIENT_WRITE_ATTRIBUTES).not.toContain(name);
    }
    expect(APP_CLIENT_WRITE_ATTRIBUTES.some((name) => name.startsWith("custom:"))).toBe(false);
  });

  it("let users read what they write, the verified flags and the stable id", () => {
    expect(APP_CLIENT_READ_ATTRIBUTES).toEqual(expect.arrayContaining([...APP_CLIENT_WRITE_ATTRIBUTES]));
    expect(APP_CLIENT_READ_ATTRIBUTES).toContain(LEGACY_SUB_ATTRIBUTE);
    expect(APP_CLIENT_READ_ATTRIBUTES).toContain("email_verified");
    expect(new Set(APP_CLIENT_READ_ATTRIBUTES).size).toBe(APP_CLIENT_READ_ATTRIBUTES.length);
  });

  it("cannot be changed at run time", () => {
    expect(Object.isFrozen(APP_CLIENT_WRITE_ATTRIBUTES)).toBe(true);
    expect(Object.isFrozen(APP_CLIENT_READ_ATTRIBUTES)).toBe(true);
  });
});
