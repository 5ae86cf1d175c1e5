import { describe, expect, it } from "vitest";
import { isThrottlingError } from "../../core/errors.js";
import { aUser } from "../../core/testing/builders.js";
import { ManualClock } from "./clock.js";
import { COGNITO_RATE_LIMITS, cognitoAccountQuotas, InMemoryUserDirectory } from "./user-directory.js";

describe("InMemoryUserDirectory", () => {
  it("throttles past a quota with an error shaped like Cognito's TooManyRequestsException", async () => {
    const clock = new ManualClock();
    const directory = new InMemoryUserDirectory({
      clock,
      rateLimits: { ListUsers: COGNITO_RATE_LIMITS.ListUsers },
    });
    for (let i = 0; i < 30; i++) await directory.listUsers();
    const error = await directory.listUsers().catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: "TooManyRequestsException",
      code: "DIRECTORY.THROTTLED",
      $metadata: { httpStatusCode: 400 },
    });
    expect(isThrottlingError(error)).toBe(true);
    clock.advance(1000);
    await expect(directory.listUsers()).resolves.toBeDefined();
  });

  it("counts each quota category on its own", async () => {
    const clock = new ManualClock();
    const directory = new InMemoryUserDirectory({ clock, rateLimits: { UserUpdate: 1 } });
    directory.seed(aUser(), aUser());
    const [a, b] = directory.snapshot();
    await directory.deleteUser(a?.username ?? "");
    await expect(directory.disableUser(b?.username ?? "")).rejects.toMatchObject({
      name: "TooManyRequestsException",
    });
    await expect(directory.getUser(b?.username ?? "")).resolves.toBeDefined();
  });

  it("shares an account's quotas between directories, as every caller shares Cognito's", async () => {
    const clock = new ManualClock();
    const quotas = cognitoAccountQuotas(clock);
    const first = new InMemoryUserDirectory({ clock, quotas });
    const second = new InMemoryUserDirectory({ clock, quotas });
    for (let i = 0; i < 15; i++) await first.listUsers();
    first.seed(aUser({ groups: ["admins"] }));
    // ListUsersInGroup counts against the same UserList quota as ListUsers.
    for (let i = 0; i < 15; i++) await first.listGroupMembers("admins");
    await expect(second.listUsers()).rejects.toMatchObject({ name: "TooManyRequestsException" });
    expect(quotas.usageOf("ListUsers")).toEqual({ admitted: 30, throttled: 1 });
    // Any one-second window, not calendar seconds: half a second later the window is still full.
    clock.advance(500);
    await expect(second.listUsers()).rejects.toMatchObject({ code: "DIRECTORY.THROTTLED" });
    clock.advance(500);
    await expect(second.listUsers()).resolves.toBeDefined();
    await expect(second.getUser("nobody")).resolves.toBeUndefined();
  });

  it("returns short pages when told to, and every user once across them", async () => {
    const directory = new InMemoryUserDirectory({ maxPageSize: 4 });
    directory.seed(...Array.from({ length: 10 }, () => aUser()));
    const first = await directory.listUsers({ pageSize: 60 });
    expect(first.items).toHaveLength(4);
    expect(first.nextToken).toBeDefined();
  });

  it("invalidates page tokens when a user is deleted mid-listing, as Cognito may", async () => {
    const directory = new InMemoryUserDirectory({ maxPageSize: 2 });
    directory.seed(...Array.from({ length: 5 }, () => aUser()));
    const first = await directory.listUsers();
    await directory.deleteUser(first.items[0]?.username ?? "");
    await expect(directory.listUsers({ pageToken: first.nextToken })).rejects.toMatchObject({
      code: "DIRECTORY.PAGE_TOKEN_INVALID",
    });
  });

  it("fails an import job whose file does not match the pool's header", async () => {
    const directory = new InMemoryUserDirectory();
    const job = await directory.createImportJob("bad");
    await directory.uploadCsv(job.jobId, "cognito:username,email\nx,y@example.com\n");
    await directory.startImportJob(job.jobId);
    expect(await directory.describeImportJob(job.jobId)).toMatchObject({ status: "Failed", imported: 0 });
  });
});
