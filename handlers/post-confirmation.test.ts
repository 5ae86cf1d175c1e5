import { rejectionOf } from "../core/testing/errors.js";
import { describe, expect, it } from "vitest";
import { LifecycleError, ValidationError } from "../core/errors.js";
import { aConfirmationEvent } from "../core/testing/confirmation-event.js";
import { InMemoryBackupStore } from "../adapters/in-memory/backup-store.js";
import { ManualClock } from "../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../adapters/in-memory/erasure-ledger.js";
import { InMemoryProfileStore } from "../adapters/in-memory/profile-store.js";
import type { BackupStore } from "../core/ports/backup-store.js";
import {
  postConfirmationHandler,
  type SyncFailureMode,
  USER_SAFE_FAILURE_MESSAGE,
} from "./post-confirmation.js";
import { RecordingObservability } from "./testing/recording-observability.js";

function setup(options: { failureMode?: SyncFailureMode; deadlineMs?: number; backups?: BackupStore } = {}) {
  const profiles = new InMemoryProfileStore();
  const backups = new InMemoryBackupStore();
  const clock = new ManualClock("2026-05-01T10:00:00.000Z");
  const observability = new RecordingObservability();
  const erasures = new InMemoryErasureLedger();
  const handler = postConfirmationHandler({
    profiles,
    backups: options.backups ?? backups,
    erasures,
    clock,
    observability,
    failureMode: options.failureMode ?? "continue",
    deadlineMs: options.deadlineMs ?? 3_000,
  });
  return { handler, profiles, backups, erasures, clock, observability };
}

describe("post-confirmation handler", () => {
  it("a sign-up that claims another user's id is not recorded over them: logged by code, counted for the alarm", async () => {
    const { handler, profiles, backups, observability } = setup();
    const victimEvent = aConfirmationEvent();
    const victimSub = (victimEvent.request as { userAttributes: { sub: string } }).userAttributes.sub;
    await handler(victimEvent);
    const attack = aConfirmationEvent({
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
    const { handler, profiles, backups, observability } = setup();
    const event = aConfirmationEvent();
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
    const { handler, profiles, clock, observability } = setup();
    const event = aConfirmationEvent();
    const sub = (event.request as { userAttributes: { sub: string } }).userAttributes.sub;
    await handler(event);
    clock.advance(60_000);
    await handler(event);
    await handler({ ...event, triggerSource: "PostConfirmation_ConfirmForgotPassword" });
    expect((await profiles.get(sub))?.createdAt).toEqual(new Date("2026-05-01T10:00:00.000Z"));
    expect(observability.counters.get("ProfileExisted")).toBe(2);
  });

  it("lets the confirmation succeed when a write fails, logging and counting it without PII", async () => {
    const { handler, backups, profiles, observability } = setup();
    backups.outage.begin();
    const event = aConfirmationEvent();
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
    const { handler, profiles } = setup({ failureMode: "fail" });
    profiles.outage.begin(
      Object.assign(new Error("connect ECONNREFUSED 10.0.0.7:443 for person@example.com"), {}),
    );
    const error = await rejectionOf(handler(aConfirmationEvent()));
    expect(error.message).toBe(USER_SAFE_FAILURE_MESSAGE);
    expect(error).not.toBeInstanceOf(LifecycleError);
  });

  it("gives up at the deadline, well inside Cognito's five seconds", async () => {
    const never: BackupStore = {
      ...new InMemoryBackupStore(),
      getUserBackup: async () => undefined,
      putUserBackup: () => new Promise<void>(() => {}),
    } as unknown as BackupStore;
    const { handler, observability } = setup({ deadlineMs: 20, backups: never });
    const event = aConfirmationEvent();
    expect(await handler(event)).toBe(event);
    expect(observability.lines.at(-1)?.attributes).toMatchObject({
      errorCode: "SYNC.WRITE_FAILED",
      failed: { deadline: "20ms" },
    });
  });

  it("rejects a malformed event, naming the field, and writes nothing", async () => {
    const { handler, profiles, backups, observability } = setup();
    const event = aConfirmationEvent();
    (event.request as { userAttributes: Record<string, unknown> }).userAttributes.sub = 42;
    const error = await rejectionOf(handler(event));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe("EVENT.INVALID");
    expect(error.message).toMatch(/sub/);
    expect(await profiles.getMany(["42"])).toEqual(new Map());
    expect(backups.keys()).toEqual([]);
    expect(observability.counters.get("InvalidEvent")).toBe(1);
  });
});
