import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { arbUser } from "../testing/arbitraries.js";
import { editedAt } from "../testing/backup.js";
import { toUserType } from "./backup-record.js";
import { parseForeignDump } from "./foreign-dump.js";
import { errorOf } from "../testing/errors.js";

// `aws cognito-idp list-users` output with cli_timestamp_format = wire (the AWS CLI v1 default): dates are
// epoch seconds, as in the AWS CLI's own example for list-users.
const CLI_V1_OUTPUT = `{
    "Users": [
        {
            "Username": "testuser",
            "Attributes": [
                { "Name": "sub", "Value": "eaad0219-2117-439f-8d46-4db20e59268f" },
                { "Name": "email", "Value": "testuser@example.com" }
            ],
            "UserCreateDate": 1682955829.578,
            "UserLastModifiedDate": 1689030181.63,
            "Enabled": true,
            "UserStatus": "CONFIRMED"
        },
        {
            "Username": "testuser2",
            "Attributes": [
                { "Name": "sub", "Value": "3b994cfd-0b07-4581-be46-3c82f9a70c90" },
                { "Name": "email", "Value": "testuser2@example.com" }
            ],
            "UserCreateDate": 1684427979.201,
            "UserLastModifiedDate": 1684427979.201,
            "Enabled": false,
            "UserStatus": "UNCONFIRMED",
            "MFAOptions": [{ "DeliveryMedium": "SMS", "AttributeName": "phone_number" }]
        }
    ]
}`;

// The same with cli_timestamp_format = iso8601 (the AWS CLI v2 default): Python isoformat, local offset,
// microseconds.
const CLI_V2_OUTPUT = `{
    "Users": [
        {
            "Username": "testuser",
            "Attributes": [
                { "Name": "sub", "Value": "eaad0219-2117-439f-8d46-4db20e59268f" },
                { "Name": "email", "Value": "testuser@example.com" }
            ],
            "UserCreateDate": "2023-05-02T00:43:49.578000+09:00",
            "UserLastModifiedDate": "2023-07-10T16:03:01.630000-07:00",
            "Enabled": true,
            "UserStatus": "CONFIRMED"
        }
    ]
}`;

const CLI_V1 = JSON.parse(CLI_V1_OUTPUT) as Record<string, unknown>;
const CLI_V2 = JSON.parse(CLI_V2_OUTPUT) as Record<string, unknown>;

describe("parseForeignDump", () => {
  it("reads AWS CLI list-users output with epoch-second dates", () => {
    const users = parseForeignDump(CLI_V1_OUTPUT, "dump.json");
    expect(users).toEqual([
      {
        username: "testuser",
        sub: "eaad0219-2117-439f-8d46-4db20e59268f",
        attributes: { sub: "eaad0219-2117-439f-8d46-4db20e59268f", email: "testuser@example.com" },
        status: "CONFIRMED",
        enabled: true,
        mfaEnabled: false,
        createdAt: new Date("2023-05-01T15:43:49.578Z"),
        modifiedAt: new Date("2023-07-10T23:03:01.630Z"),
        groups: [],
      },
      expect.objectContaining({
        username: "testuser2",
        status: "UNCONFIRMED",
        enabled: false,
        createdAt: new Date("2023-05-18T16:39:39.201Z"),
      }),
    ]);
  });

  it("reads AWS CLI v2 list-users output with ISO dates in a local offset", () => {
    const [user] = parseForeignDump(CLI_V2_OUTPUT);
    expect(user?.createdAt).toEqual(new Date("2023-05-01T15:43:49.578Z"));
    expect(user?.modifiedAt).toEqual(new Date("2023-07-10T23:03:01.630Z"));
  });

  it("reads a JSON array of UserType and a single UserType", () => {
    const listed = CLI_V1.Users as unknown[];
    expect(parseForeignDump(JSON.stringify(listed))).toEqual(parseForeignDump(CLI_V1_OUTPUT));
    expect(parseForeignDump(listed[1])).toEqual([parseForeignDump(CLI_V1_OUTPUT)[1]]);
  });

  it("reads back what toUserType writes, whatever the users hold (property)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(arbUser(), { maxLength: 5, selector: (u) => u.username }), (users) => {
        const dump = JSON.stringify({ Users: users.map(toUserType) });
        expect(parseForeignDump(dump)).toEqual(users.map((u) => ({ ...u, groups: [], mfaEnabled: false })));
      }),
      { numRuns: 100 },
    );
  });

  it("ignores fields Cognito may add and the response's other fields", () => {
    const dump = editedAt(
      editedAt(CLI_V2, "Users[0].SomeFutureField", { nested: true }),
      "ResponseMetadata",
      {},
    );
    expect(parseForeignDump(dump)).toHaveLength(1);
  });

  it.each(["PaginationToken", "NextToken"])("refuses one page of a longer listing (%s present)", (token) => {
    const dump = editedAt(CLI_V1, token, "abcd1234EXAMPLE");
    expect(errorOf(() => parseForeignDump(dump, "dump.json"))).toMatchObject({
      code: "BACKUP.MALFORMED",
      field: `dump.json: ${token}`,
    });
  });

  it("names the user and field of a bad value, without the value", () => {
    const dump = editedAt(CLI_V1, "Users[1].UserStatus", "testuser2@example.com");
    const error = errorOf(() => parseForeignDump(dump, "dump.json"));
    expect(error).toMatchObject({ code: "BACKUP.MALFORMED", field: "dump.json: Users[1].UserStatus" });
    expect(error.message).not.toContain("testuser2@example.com");

    const array = editedAt(CLI_V1, "Users[0].Attributes[1].Value", null).Users;
    expect(errorOf(() => parseForeignDump(array)).field).toBe("[0].Attributes[1].Value");
  });

  it("refuses a user without sub (an AdminGetUser response is not a UserType)", () => {
    const adminGetUser = {
      Username: "testuser",
      UserAttributes: [{ Name: "sub", Value: "eaad0219-2117-439f-8d46-4db20e59268f" }],
      Enabled: true,
      UserStatus: "CONFIRMED",
    };
    expect(errorOf(() => parseForeignDump(adminGetUser)).field).toBe("Attributes");
  });

  it("refuses the same username twice", () => {
    const dump = editedAt(CLI_V1, "Users[1].Username", "testuser");
    expect(errorOf(() => parseForeignDump(dump)).field).toBe("Users[1].Username");
  });

  it("refuses other shapes and invalid JSON, naming the location", () => {
    expect(errorOf(() => parseForeignDump({ Items: [] }, "dump.json"))).toMatchObject({
      code: "BACKUP.MALFORMED",
      field: "dump.json",
    });
    expect(errorOf(() => parseForeignDump('{"Users": [', "dump.json")).field).toBe("dump.json");
    expect(errorOf(() => parseForeignDump({ Users: {} })).field).toBe("Users");
    expect(errorOf(() => parseForeignDump(42)).field).toBe("$");
  });
});
