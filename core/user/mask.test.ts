import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { maskAttributes, maskEmail, maskIdentifier, maskPhone } from "./mask.js";

describe("maskEmail", () => {
  it.each([
    ["alice@example.com", "a***@e***.com"],
    ["bob.smith+tag@mail.example.co.uk", "b***@m***.uk"],
    ["x@localhost", "x***@l***"],
    ["Émile@exämple.fr", "É***@e***.fr"],
    ["😀user@example.org", "😀***@e***.org"],
  ])("masks %s as %s", (email, masked) => {
    expect(maskEmail(email)).toBe(masked);
  });

  it.each(["", "no-at-sign", "@example.com", "alice@"])("masks the malformed %j entirely", (text) => {
    expect(maskEmail(text)).toBe("***");
  });

  it("does not reveal the length of the local part", () => {
    expect(maskEmail("al@example.com")).toBe(maskEmail("alexandra-long-name@example.com"));
  });
});

describe("maskPhone", () => {
  it.each([
    ["+12065551212", "+*********12"],
    ["+81 90-1234-5678", "+**********78"],
    ["(206) 555-1212", "********12"],
    ["+12", "+**"],
    ["7", "*"],
    ["", "***"],
    ["call me", "***"],
  ])("masks %j as %j", (phone, masked) => {
    expect(maskPhone(phone)).toBe(masked);
  });
});

describe("maskIdentifier", () => {
  it("leaves a UUID alone (a sub, or a username Cognito generated)", () => {
    const uuid = "8f3b2c1a-1234-4abc-9def-0123456789ab";
    expect(maskIdentifier(uuid)).toBe(uuid);
    expect(maskIdentifier(uuid.toUpperCase())).toBe(uuid.toUpperCase());
  });

  it("masks a username that is an email", () => {
    expect(maskIdentifier("alice@example.com")).toBe("a***@e***.com");
  });

  it("masks a username that is a phone number", () => {
    expect(maskIdentifier("+12065551212")).toBe("+*********12");
  });

  it("keeps only the first character of a chosen username", () => {
    expect(maskIdentifier("john.smith")).toBe("j***");
  });

  it("masks a one-character username entirely", () => {
    expect(maskIdentifier("j")).toBe("***");
  });

  it("masks a numeric username like a phone number", () => {
    expect(maskIdentifier("2024")).toBe("**24");
  });

  it("keeps the empty string", () => {
    expect(maskIdentifier("")).toBe("");
  });
});

describe("maskAttributes", () => {
  it("masks contact details and every attribute not known to be harmless", () => {
    const masked = maskAttributes({
      sub: "8f3b2c1a-1234-4abc-9def-0123456789ab",
      "custom:legacy_sub": "11111111-2222-4333-8444-555555555555",
      email: "alice@example.com",
      email_verified: "true",
      phone_number: "+12065551212",
      phone_number_verified: "false",
      "cognito:user_status": "CONFIRMED",
      "cognito:email_alias": "alice@example.com",
      "cognito:username": "alice@example.com",
      name: "Alice Example",
      address: "1 Main St",
      birthdate: "1990-01-01",
      "custom:tenant": "acme",
    });
    expect(masked).toEqual({
      sub: "8f3b2c1a-1234-4abc-9def-0123456789ab",
      "custom:legacy_sub": "11111111-2222-4333-8444-555555555555",
      email: "a***@e***.com",
      email_verified: "true",
      phone_number: "+*********12",
      phone_number_verified: "false",
      "cognito:user_status": "CONFIRMED",
      "cognito:email_alias": "a***@e***.com",
      "cognito:username": "a***@e***.com",
      name: "***",
      address: "***",
      birthdate: "***",
      "custom:tenant": "***",
    });
  });

  it("keeps a key named __proto__ as plain data", () => {
    const attrs = JSON.parse('{"__proto__": "x", "email": "a@b.c"}') as Record<string, string>;
    const masked = maskAttributes(attrs);
    expect(Object.getPrototypeOf(masked)).toBe(Object.prototype);
    expect(Object.keys(masked).sort()).toEqual(["__proto__", "email"]);
  });
});

describe("masking properties", () => {
  it("never shows the whole local part of an email longer than one character", () => {
    fc.assert(
      fc.property(fc.emailAddress(), (email) => {
        const at = email.lastIndexOf("@");
        const local = email.slice(0, at);
        const domain = email.slice(at + 1);
        const masked = maskEmail(email);
        // The output is built from fixed parts; only these can echo the local part by coincidence:
        // a local part made of its first character and asterisks, or one that is part of the kept TLD.
        fc.pre(local.length > 1 && !/^.\*+$/u.test(local) && !domain.includes(local));
        expect(masked).not.toContain(local);
        expect(masked.startsWith(`${Array.from(local)[0]}***@`)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("never shows the whole phone number", () => {
    const phone = fc
      .tuple(fc.boolean(), fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 1, maxLength: 15 }))
      .map(([plus, digits]) => `${plus ? "+" : ""}${digits}`);
    fc.assert(
      fc.property(phone, (number) => {
        const masked = maskPhone(number);
        expect(masked).not.toContain(number.replace("+", ""));
        expect(maskIdentifier(number)).not.toContain(number.replace("+", ""));
      }),
      { numRuns: 500 },
    );
  });
});
