import { describe, expect, it } from "vitest";
import { ValidationError } from "../core/errors.js";
import { DEFAULT_PURGE_POLICY } from "../core/purge/index.js";
import { errorOf } from "../core/testing/errors.js";
import { PROJECT, parseStackConfig } from "./config.js";
import { loadStackConfig, runProgram } from "./testing/program.js";

function failure(raw: Record<string, string>): ValidationError {
  const error = errorOf(() => parseStackConfig(raw));
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).code).toBe("CONFIG.INVALID");
  return error as ValidationError;
}

describe("parseStackConfig", () => {
  it("gives every key its documented default on an empty stack", () => {
    const config = parseStackConfig({});
    expect(config).toMatchObject({
      deletionProtection: true,
      protectStatefulResources: true,
      logRetentionDays: 90,
      identity: {
        mfa: "optional",
        passwordMinimumLength: 12,
        selfSignUp: true,
        tier: "ESSENTIALS",
        email: {},
      },
      sync: { failureMode: "continue", deadlineMs: 3000 },
      purge: DEFAULT_PURGE_POLICY,
      purgeBatchSize: 500,
      purgeLanes: 2,
      schedules: {
        timezone: "UTC",
        purgeIdentities: "cron(0 3 * * ? *)",
        purgeAccounts: "cron(30 3 * * ? *)",
        snapshot: "cron(0 2 * * ? *)",
      },
      backups: { noncurrentVersionDays: 30, snapshotRetentionDays: 90, restoreStateDays: 30 },
      accountsDatabase: {
        enabled: false,
        instanceClass: "db.t4g.micro",
        engineVersion: "8.4",
        engineLifecycleSupport: "open-source-rds-extended-support-disabled",
        applyMigrations: true,
      },
      alarms: { purgeDeletionsThreshold: 500 },
      restore: { targetUserPoolIds: [] },
    });
    expect(config.alarms.email).toBeUndefined();
    expect(JSON.parse(config.purgePolicyJson)).toEqual({
      minAge: "1d",
      maxDeletionsPerRun: 1000,
      maxShareOfPool: 0.05,
      dryRun: false,
    });
  });

  it.each(["dev", "prod"])("accepts Pulumi.%s.yaml", (stack) => {
    expect(() => loadStackConfig(stack)).not.toThrow();
  });

  it("reads the production settings of Pulumi.prod.yaml", () => {
    const config = loadStackConfig("prod");
    expect(config).toMatchObject({
      deletionProtection: true,
      identity: { mfa: "on" },
      accountsDatabase: { enabled: true, multiAz: true, backupRetentionDays: 30 },
      alarms: { email: "platform-oncall@example.com" },
    });
    expect(config.purge.minAgeMs).toBe(7 * 24 * 3600 * 1000);
  });

  it.each([
    [{ schedules: '{"snapshot":"cron(0 2 * * *)"}' }, `${PROJECT}:schedules.snapshot`, "cron("],
    [{ schedules: '{"purgeIdentities":"rate(0 hours)"}' }, `${PROJECT}:schedules.purgeIdentities`, "rate"],
    [{ schedules: '{"snapshot":"at(2027-01-01T00:00:00)"}' }, `${PROJECT}:schedules.snapshot`, "must repeat"],
    [{ schedules: '{"timezone":"Mars/Olympus"}' }, `${PROJECT}:schedules.timezone`, "IANA time zone"],
    [{ logRetentionDays: "13" }, `${PROJECT}:logRetentionDays`, "retention periods"],
    [{ purge: '{"maxDeletionsPerRun":1001}' }, `${PROJECT}:purge.maxDeletionsPerRun`, "at most 1000"],
    [{ deletionProtection: "yes" }, `${PROJECT}:deletionProtection`, "boolean"],
    [{ protectStatefulResources: "no" }, `${PROJECT}:protectStatefulResources`, "boolean"],
    [{ identity: '{"tier":"GOLD"}' }, `${PROJECT}:identity.tier`, '"LITE"|"ESSENTIALS"|"PLUS"'],
    [
      { identity: '{"email":{"sesSourceArn":"example.com"}}' },
      `${PROJECT}:identity.email.sesSourceArn`,
      "verified SES identity",
    ],
    [
      { identity: '{"email":{"from":"Example <a@example.com>"}}' },
      `${PROJECT}:identity.email.from`,
      "needs identity.email.sesSourceArn",
    ],
    [
      { accountsDatabase: '{"engineVersion":"8.1"}' },
      `${PROJECT}:accountsDatabase.engineVersion`,
      "8.0 or 8.4",
    ],
    [
      { accountsDatabase: '{"engineLifecycleSupport":"forever"}' },
      `${PROJECT}:accountsDatabase.engineLifecycleSupport`,
      "open-source-rds-extended-support-disabled",
    ],
    [
      { accountsDatabase: '{"applyMigrations":"sometimes"}' },
      `${PROJECT}:accountsDatabase.applyMigrations`,
      "boolean",
    ],
    [{ identity: '{"mfa":"sometimes"}' }, `${PROJECT}:identity.mfa`, "off"],
    [{ identity: '{"passwordMinimumLength":6}' }, `${PROJECT}:identity.passwordMinimumLength`, "8"],
    [{ sync: '{"deadlineMs":5000}' }, `${PROJECT}:sync.deadlineMs`, "4500"],
    [{ alarms: '{"email":"oncall"}' }, `${PROJECT}:alarms.email`, "email address"],
    [{ accountsDatabase: '{"vpcCidr":"10.0.0.0/8"}' }, `${PROJECT}:accountsDatabase.vpcCidr`, "CIDR"],
    [{ accountsDatabase: '{"engineVersion":"5.7"}' }, `${PROJECT}:accountsDatabase.engineVersion`, "MySQL 8"],
    [
      { restore: '{"targetUserPoolIds":["pool-1"]}' },
      `${PROJECT}:restore.targetUserPoolIds.0`,
      "user pool id",
    ],
    [{ deletionProtecton: "false" }, `${PROJECT}:deletionProtecton`, "not a setting of this program"],
    [{ backups: '{"snapshotRetention":5}' }, `${PROJECT}:backups.snapshotRetention`, "snapshotRetentionDays"],
  ])("refuses %j naming %s", (raw, key, hint) => {
    const error = failure(raw);
    expect(error.field).toBe(key);
    expect(error.message).toContain(`${key}: `);
    expect(error.message).toContain(hint);
  });

  it("warns, naming the key, when users sign up themselves and mail goes through Cognito's default sender", () => {
    expect(parseStackConfig({}).warnings).toEqual([
      expect.stringContaining(`${PROJECT}:identity.email.sesSourceArn`),
    ]);
    expect(parseStackConfig({ identity: '{"selfSignUp":false}' }).warnings).toEqual([]);
    const ses = '{"email":{"sesSourceArn":"arn:aws:ses:eu-west-1:123456789012:identity/example.com"}}';
    expect(parseStackConfig({ identity: ses }).warnings).toEqual([]);
  });

  it("names the purge policy field that is wrong", () => {
    const error = failure({ purge: '{"maxShareOfPool":2}' });
    expect(error.field).toBe(`${PROJECT}:purge.maxShareOfPool`);
    expect(error.message).toContain("maxShareOfPool");
  });

  it("reports every bad key at once, so one preview shows them all", () => {
    const error = failure({ logRetentionDays: "13", schedules: '{"timezone":"Nowhere"}', typo: "1" });
    expect(error.details.keys).toEqual(
      expect.arrayContaining([
        `${PROJECT}:logRetentionDays`,
        `${PROJECT}:schedules.timezone`,
        `${PROJECT}:typo`,
      ]),
    );
  });
});

describe("the program with a bad config value", () => {
  it("fails at preview time naming the key, before declaring anything from it", async () => {
    const error = await runProgram("dev", { schedules: '{"snapshot":"cron(0 25 * * ? *)"}' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain(`${PROJECT}:schedules.snapshot: `);
    expect((error as Error).message).toContain("hours");
  });
});
