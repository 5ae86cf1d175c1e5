/**
 * The header of a user import file, as GetCSVHeader returns it for the target pool, checked once so that
 * every row written against it can be imported.
 *
 * Rules from Amazon Cognito's guide, "Creating the user import .csv file"
 * (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-csv-header.html):
 * the first row is the downloaded header; `cognito:username`, `cognito:mfa_enabled` and `email_verified` or
 * `phone_number_verified` are required; the pool needs at least one auto-verified attribute and, when it has
 * only one, that one must be verified for every user; attributes the pool marks as required must have values;
 * `cognito:mfa_enabled` must be true for all users when MFA is required, false when MFA is off.
 */
import { ValidationError } from "../errors.js";
import { LEGACY_SUB_ATTRIBUTE } from "../user/user.js";

export const USERNAME_COLUMN = "cognito:username";
export const MFA_ENABLED_COLUMN = "cognito:mfa_enabled";

/** The two contacts Cognito can verify, each with the column that says whether it is verified. */
export type VerifiableContact = "email" | "phone_number";
export const VERIFIED_FLAG_COLUMN: Readonly<Record<VerifiableContact, string>> = {
  email: "email_verified",
  phone_number: "phone_number_verified",
};
const CONTACTS: readonly VerifiableContact[] = ["email", "phone_number"];

/** The pool's MFA setting (CreateUserPool's `MfaConfiguration`). */
export type MfaConfiguration = "OFF" | "ON" | "OPTIONAL";

export interface ImportHeader {
  /** Column names in the order GetCSVHeader gave them; every row has exactly these fields. */
  readonly columns: readonly string[];
  /**
   * Contacts whose verification lets a user in: a row needs at least one of them verified and present.
   * Absent: every contact the header can carry (flag and value column).
   */
  readonly verifiedContacts?: readonly VerifiableContact[];
  /** Attributes the pool marks as required: a user without a value for one is skipped. Absent: none. */
  readonly requiredAttributes?: readonly string[];
  /** The pool's MFA setting; absent means OPTIONAL (each user's own `mfaEnabled` is written). */
  readonly mfaConfiguration?: MfaConfiguration;
}

export interface ImportHeaderOptions {
  /** Refuse a header without `custom:legacy_sub`, the column that keeps each user's original sub. Default true. */
  requireLegacySub?: boolean;
  /** The pool's auto-verified attributes (`AutoVerifiedAttributes`); narrows which verification counts. */
  autoVerifiedAttributes?: readonly VerifiableContact[];
  /** The pool's required attributes (schema attributes with `Required: true`). */
  requiredAttributes?: readonly string[];
  /** The pool's MFA setting. */
  mfaConfiguration?: MfaConfiguration;
}

// A column name is written as-is on the header line: the guide only defines escaping for attribute values.
const UNSAFE_NAME = /[\s,"\\]/u;

/**
 * Checks the pool's CSV header and returns it with the pool settings that shape every row.
 *
 * @throws ValidationError `CSV.INVALID_HEADER` (field `csvHeader`, `csvHeader[i]` or `options.*`) when the header
 *   is empty; has an empty, duplicated or unwritable column name (whitespace, comma, quote, backslash); has a
 *   `sub` column (Cognito assigns subs, it cannot import them); lacks `cognito:username` or
 *   `cognito:mfa_enabled`; lacks both `email_verified` + `email` and `phone_number_verified` + `phone_number`;
 *   lacks `custom:legacy_sub` while `requireLegacySub` is on; or when the options name an auto-verified
 *   contact or required attribute the header cannot carry, or no auto-verified attribute at all (Cognito
 *   will not start an import job for such a pool).
 */
export function parseImportHeader(
  csvHeader: readonly string[],
  options: ImportHeaderOptions = {},
): ImportHeader {
  if (csvHeader.length === 0) {
    throw new ValidationError(
      "CSV.INVALID_HEADER",
      "csvHeader",
      "is empty; pass the pool's GetCSVHeader answer",
    );
  }
  const seen = new Set<string>();
  csvHeader.forEach((name, i) => {
    if (name === "" || UNSAFE_NAME.test(name)) {
      throw new ValidationError(
        "CSV.INVALID_HEADER",
        `csvHeader[${i}]`,
        "is empty or contains whitespace, a comma, a quote or a backslash",
      );
    }
    if (seen.has(name)) {
      throw new ValidationError("CSV.INVALID_HEADER", `csvHeader[${i}]`, `duplicates the column ${name}`);
    }
    if (name === "sub") {
      throw new ValidationError(
        "CSV.INVALID_HEADER",
        `csvHeader[${i}]`,
        "is sub, which Cognito assigns and cannot import",
      );
    }
    seen.add(name);
  });

  for (const required of [USERNAME_COLUMN, MFA_ENABLED_COLUMN]) {
    if (!seen.has(required)) {
      throw new ValidationError(
        "CSV.INVALID_HEADER",
        "csvHeader",
        `has no ${required} column, which Cognito requires`,
      );
    }
  }

  const carried = CONTACTS.filter((contact) => seen.has(contact) && seen.has(VERIFIED_FLAG_COLUMN[contact]));
  if (carried.length === 0) {
    throw new ValidationError(
      "CSV.INVALID_HEADER",
      "csvHeader",
      "needs email_verified with email, or phone_number_verified with phone_number: an imported user must " +
        "have a verified contact",
    );
  }

  if (options.requireLegacySub ?? true) {
    if (!seen.has(LEGACY_SUB_ATTRIBUTE)) {
      throw new ValidationError(
        "CSV.INVALID_HEADER",
        "csvHeader",
        `has no ${LEGACY_SUB_ATTRIBUTE} column: the pool needs the custom attribute legacy_sub (String) so ` +
          "each user keeps the sub they had before the restore",
      );
    }
  }

  let verifiedContacts: readonly VerifiableContact[] = carried;
  if (options.autoVerifiedAttributes !== undefined) {
    const autoVerified = [...new Set(options.autoVerifiedAttributes)];
    if (autoVerified.length === 0) {
      throw new ValidationError(
        "CSV.INVALID_HEADER",
        "options.autoVerifiedAttributes",
        "is empty; Cognito does not start an import job for a pool without an auto-verified attribute",
      );
    }
    autoVerified.forEach((contact, i) => {
      if (!carried.includes(contact)) {
        throw new ValidationError(
          "CSV.INVALID_HEADER",
          `options.autoVerifiedAttributes[${i}]`,
          `is ${contact}, but the header lacks ${contact} or ${VERIFIED_FLAG_COLUMN[contact]}`,
        );
      }
    });
    verifiedContacts = autoVerified;
  }

  const requiredAttributes = [...new Set(options.requiredAttributes ?? [])];
  requiredAttributes.forEach((name, i) => {
    if (!seen.has(name)) {
      throw new ValidationError(
        "CSV.INVALID_HEADER",
        `options.requiredAttributes[${i}]`,
        `is ${name}, which is not a column of the header`,
      );
    }
  });

  return {
    columns: [...csvHeader],
    verifiedContacts,
    requiredAttributes,
    mfaConfiguration: options.mfaConfiguration ?? "OPTIONAL",
  };
}
