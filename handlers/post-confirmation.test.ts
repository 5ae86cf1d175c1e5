import { rejectionOf } from "../core/testing/errors.js";
import { describe, expect, it } from "vitest";
import { LifecycleError, ValidationError } from "../core/errors.js";
import { aConfirmationEvent, type ConfirmationEventOverrides } from "../core/testing/confirmation-event.js";
import { parsePostConfirmationEvent } from "../core/user/post-confirmation.js";
import type { User } from "../core/user/user.js";
import { InMemoryBackupStore } from "../adapters/in-memory/backup-store.js";
import { ManualClock } from "../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../adapters/in-memory/erasure-ledger.js";
import { InMemoryProfileStore } from "../adapters/in-memory/profile-store.js";
import { InMemoryUserDirectory } from "../adapters/in-memory/user-directory.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import type { BackupStore } from "../core/ports/backup-store.js";
import {
  postConfirmationHandler,
  type SyncFailureMode,
  USER_SAFE_FAILURE_MESSAGE,
} from "./post-confirmation.js";
import { RecordingObservability } from "../runtime/testing/recording-observability.js";

function setup(
  options: {
    failureMode?: SyncFailureMode;
    deadlineMs?: number;
    backups?: BackupStore;
    directory?: (pool: InMemoryUserDirectory) => UserDirectory;
  } = {},
) {
  const profiles = new InMemoryProfileStore();
  const backups = new InMemoryBackupStore();
  const clock = new ManualClock("2026-05-01T10:00:00.000Z");
  const observability = new RecordingObservability();
  const erasures = new InMemoryErasureLedger();
  const pool = new InMemoryUserDirectory({ clock });
  const poolsRead: string[] = [];
  const handler = postConfirmationHandler({
    profiles,
    backups: options.backups ?? backups,
    erasures,
    clock,
    observability,
    failureMode: options.failureMode ?? "continue",
    deadlineMs: options.deadlineMs ?? 3_000,
    directoryOf: (userPoolId) => {
      poolsRead.push(userPoolId);
      return options.directory?.(pool) ?? pool;
    },
  });
  /** A sign-up confirmation's event, its user in the pool as the commit left it (CONFIRMED, enabled). */
  const confirming = (overrides: ConfirmationEventOverrides = {}, user: Partial<User> = {}) => {
    const built = aConfirmationEvent(overrides);
    pool.seed({ ...parsePostConfirmationEvent(built).user, ...user });
    return built;
  };
  return { handler, confirming, pool, poolsRead, profiles, backups, erasures, clock, observability };
}

describe("post-confirmation handler", () => {
  it("a sign-up that claims another user's id is not recorded over them: logged by code, counted for the alarm", async () => {
    const { handler, confirming, profiles, backups, observability } = setup();
    const victimEvent = confirming();
    const victimSub = (victimEvent.request as { userAttributes: { sub: string } }).userAttributes.sub;
    await handler(victimEvent);
    const attack = confirming({
      userName: "mallory",
      userAttributes: { "custom:legacy_sub": victimSub, email: "mallory@evil.example" },
    });
    expect(await handler(attack)).toBe(attack);
    expect((await profiles.get(victimSub))?.username).toBe(victimSub);
    expect((await backups.getUserBackup(victimSub))?.user.attributes.email).not.toBe("mallory@evil.example");
    expect(observability.counters.get("IdentityBindingConflicts")).toBe(1);
    expect(observability.lines.find((line) => line.level === "error")?.attributes).toMatchObject({
      errorCode: "USER.IDENTITY_CONFLICT",
    });
    expect(observability.text()).not.toContain("mallory");
  });

  it("writes the profile and the backup and returns the event unchanged", async () => {
    const { handler, confirming, profiles, backups, observability } = setup();
    const event = confirming();
    const copy = structuredClone(event);
    const sub = (event.request as { userAttributes: { sub: string } }).userAttributes.sub;
    expect(await handler(event, { awsRequestId: "req-1" })).toBe(event);
    expect(event).toEqual(copy);
    expect(await profiles.get(sub)).toMatchObject({
      id: sub,
      createdAt: new Date("2026-05-01T10:00:00.000Z"),
    });
    expect((await backups.getUserBackup(sub))?.source.kind).toBe("post-confirmation");
    expect(observability.counters.get("ProfileCreated")).toBe(1);
    expect(observability.invocations).toEqual([{ awsRequestId: "req-1" }]);
    expect(observability.published).toBe(1);
  });

  it("is idempotent: a repeated event and a forgot-password confirmation keep createdAt", async () => {
    const { handler, confirming, profiles, clock, observability } = setup();
    const event = confirming();
    const sub = (event.request as { userAttributes: { sub: string } }).userAttributes.sub;
    await handler(event);
    clock.advance(60_000);
    await handler(event);
    await handler({ ...event, triggerSource: "PostConfirmation_ConfirmForgotPassword" });
    expect((await profiles.get(sub))?.createdAt).toEqual(new Date("2026-05-01T10:00:00.000Z"));
    expect(observability.counters.get("ProfileExisted")).toBe(2);
  });

  it("lets the confirmation succeed when a write fails, logging and counting it without PII", async () => {
    const { handler, confirming, backups, profiles, observability } = setup();
    backups.outage.begin();
    const event = confirming();
    const sub = (event.request as { userAttributes: { sub: string } }).userAttributes.sub;
    expect(await handler(event)).toBe(event);
    expect(await profiles.get(sub)).toBeDefined();
    expect(observability.counters.get("SyncFailed")).toBe(1);
    const line = observability.lines.find((l) => l.level === "error");
    expect(line?.attributes).toMatchObject({
      errorCode: "SYNC.WRITE_FAILED",
      failed: { backup: "ECONNREFUSED" },
    });
    expect(observability.text()).not.toMatch(/@example\.com/);
  });

  it("fails the confirmation with a user-safe message when the stack asks for it", async () => {
    const { handler, confirming, profiles } = setup({ failureMode: "fail" });
    profiles.outage.begin(
      Object.assign(new Error("connect ECONNREFUSED 10.0.0.7:443 for person@example.com"), {}),
    );
    const error = await rejectionOf(handler(confirming()));
    expect(error.message).toBe(USER_SAFE_FAILURE_MESSAGE);
    expect(error).not.toBeInstanceOf(LifecycleError);
  });

  it("gives up at the deadline, well inside Cognito's five seconds", async () => {
    const never: BackupStore = {
      ...new InMemoryBackupStore(),
      getUserBackup: async () => undefined,
      putUserBackup: () => new Promise<void>(() => {}),
    } as unknown as BackupStore;
    const { handler, confirming, observability } = setup({ deadlineMs: 20, backups: never });
    const event = confirming();
    expect(await handler(event)).toBe(event);
    expect(observability.lines.at(-1)?.attributes).toMatchObject({
      errorCode: "SYNC.WRITE_FAILED",
      failed: { deadline: "20ms" },
    });
  });

  it("rejects a malformed event, naming the field, and writes nothing", async () => {
    const { handler, confirming, profiles, backups, observability } = setup();
    const event = confirming();
    (event.request as { userAttributes: Record<string, unknown> }).userAttributes.sub = 42;
    const error = await rejectionOf(handler(event));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe("EVENT.INVALID");
    expect(error.message).toMatch(/sub/);
    expect(await profiles.getMany(["42"])).toEqual(new Map());
    expect(backups.keys()).toEqual([]);
    expect(observability.counters.get("InvalidEvent")).toBe(1);
  });

  describe("the trigger half of the purge's fence", () => {
    it("fails a sign-up confirmation of a disabled user with the user-safe message, records nothing, counts it", async () => {
      const { handler, confirming, poolsRead, profiles, backups, observability } = setup();
      const event = confirming({ userPoolId: "eu-west-1_Pool42" }, { enabled: false });
      const error = await rejectionOf(handler(event));
      expect(error.message).toBe(USER_SAFE_FAILURE_MESSAGE);
      expect(error).not.toBeInstanceOf(LifecycleError);
      // Read where the event came from: the pool that invoked the function.
      expect(poolsRead).toEqual(["eu-west-1_Pool42"]);
      expect(await profiles.getMany([parsePostConfirmationEvent(event).user.sub])).toEqual(new Map());
      expect(backups.keys()).toEqual([]);
      expect(observability.counters.get("ConfirmationHeldByFence")).toBe(1);
      expect(observability.counters.get("SyncFailed")).toBeUndefined();
      expect(observability.lines.at(-1)).toMatchObject({
        level: "warn",
        attributes: { errorCode: "PURGE.CONFIRMATION_HELD", reason: "DISABLED" },
      });
      expect(observability.text()).not.toMatch(/@example\.com|00000000-0000-4000-9000/);
      expect(observability.published).toBe(1);
    });

    it("fails it too when the user is gone (deleted after the commit) or the username is another person's now", async () => {
      const { handler, confirming, pool, profiles, backups, observability } = setup();
      const deleted = confirming();
      await pool.deleteUser(parsePostConfirmationEvent(deleted).user.username);
      expect((await rejectionOf(handler(deleted))).message).toBe(USER_SAFE_FAILURE_MESSAGE);
      const taken = confirming({}, { sub: "00000000-0000-4000-a000-000000000001" });
      expect((await rejectionOf(handler(taken))).message).toBe(USER_SAFE_FAILURE_MESSAGE);
      expect(backups.keys()).toEqual([]);
      expect(await profiles.getMany(["00000000-0000-4000-a000-000000000001"])).toEqual(new Map());
      expect(observability.counters.get("ConfirmationHeldByFence")).toBe(2);
      expect(observability.lines.map((line) => line.attributes?.reason)).toEqual(["GONE", "GONE"]);
    });

    it("lets an enabled user's confirmation through, reading the user once and without groups", async () => {
      const { handler, confirming, pool, profiles } = setup();
      const event = confirming();
      expect(await handler(event)).toBe(event);
      expect(await profiles.get(parsePostConfirmationEvent(event).user.sub)).toBeDefined();
      expect(pool.calls.get("AdminGetUser")).toBe(1);
      expect(pool.calls.get("AdminListGroupsForUser")).toBeUndefined();
    });

    it("does not read for a forgot-password confirmation: no purge can race one (a disabled user's is recorded as before)", async () => {
      const { handler, confirming, pool, observability } = setup();
      const event = confirming(
        { triggerSource: "PostConfirmation_ConfirmForgotPassword" },
        { enabled: false },
      );
      expect(await handler(event)).toBe(event);
      expect(pool.calls.get("AdminGetUser")).toBeUndefined();
      expect(observability.counters.get("ConfirmationHeldByFence")).toBeUndefined();
      expect(observability.counters.get("ProfileCreated")).toBe(1);
    });

    const unreadable = (error: Error) => (pool: InMemoryUserDirectory) =>
      new Proxy(pool, {
        get: (target, property, receiver) =>
          property === "getUser" ? () => Promise.reject(error) : Reflect.get(target, property, receiver),
      });
    const throttled = Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" });

    it("fails open when the user cannot be read (default): the confirmation succeeds and is recorded, counted for the alarm", async () => {
      const { handler, confirming, profiles, observability } = setup({ directory: unreadable(throttled) });
      const event = confirming({}, { enabled: false });
      expect(await handler(event)).toBe(event);
      expect(await profiles.get(parsePostConfirmationEvent(event).user.sub)).toBeDefined();
      expect(observability.counters.get("ConfirmationFenceUnchecked")).toBe(1);
      expect(observability.lines.find((line) => line.level === "error")?.attributes).toMatchObject({
        errorCode: "TooManyRequestsException",
        failureMode: "continue",
      });
    });

    it("fails closed when the stack chose SYNC_FAILURE_MODE=fail: user-safe message, nothing recorded", async () => {
      const { handler, confirming, profiles, backups, observability } = setup({
        failureMode: "fail",
        directory: unreadable(throttled),
      });
      const event = confirming();
      const error = await rejectionOf(handler(event));
      expect(error.message).toBe(USER_SAFE_FAILURE_MESSAGE);
      expect(await profiles.getMany([parsePostConfirmationEvent(event).user.sub])).toEqual(new Map());
      expect(backups.keys()).toEqual([]);
      expect(observability.counters.get("ConfirmationFenceUnchecked")).toBe(1);
    });

    it("gives the read a third of the deadline: a read that hangs is abandoned and the writes still get their time", async () => {
      const hanging = (pool: InMemoryUserDirectory) =>
        new Proxy(pool, {
          get: (target, property, receiver) =>
            property === "getUser" ? () => new Promise(() => {}) : Reflect.get(target, property, receiver),
        });
      const { handler, confirming, profiles, observability } = setup({ deadlineMs: 60, directory: hanging });
      const event = confirming();
      expect(await handler(event)).toBe(event);
      expect(await profiles.get(parsePostConfirmationEvent(event).user.sub)).toBeDefined();
      expect(observability.lines.find((line) => line.level === "error")?.attributes).toMatchObject({
        errorCode: "SYNC.FENCE_UNCHECKED",
      });
      expect(observability.counters.get("SyncFailed")).toBeUndefined();
    });
  });
});
