/**
 * The trigger half of the purge's fence on the local stack, where the local Cognito lets a disabled user confirm
 * (`disabledConfirmSignUp: "confirm"`, one of the two things Cognito may do: AWS does not document it). A real
 * SDK client confirms; the local Cognito commits, then runs Post Confirmation through the local Lambda endpoint;
 * the handler reads the user back from the local Cognito (AdminGetUser on the event's pool, with the stack's
 * endpoint and credentials) and fails the confirmation of a disabled user.
 */
import {
  AdminDisableUserCommand,
  AdminGetUserCommand,
  type CognitoIdentityProviderClient,
} from "@aws-sdk/client-cognito-identity-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Container } from "../runtime/composition-root.js";
import { USER_SAFE_FAILURE_MESSAGE } from "../handlers/post-confirmation.js";
import { cognitoClientFor } from "../local/demo.js";
import { confirm as confirmLocally, signUp as signUpLocally } from "./local-users.js";
import { type LocalStack, startLocalStack } from "../local/stack.js";

let stack: LocalStack;
let cognito: CognitoIdentityProviderClient;
let container: Container;
const handlerLines: string[] = [];

beforeAll(async () => {
  stack = await startLocalStack({
    stateFile: false,
    disabledConfirmSignUp: "confirm",
    handlerLog: (line) => handlerLines.push(line),
  });
  cognito = cognitoClientFor(stack);
  container = new Container(stack.env);
}, 60_000);

afterAll(async () => {
  cognito?.destroy();
  await container?.close();
  await stack?.stop();
}, 30_000);

const signUp = (username: string) => signUpLocally(cognito, stack, username);

const confirm = (username: string) => confirmLocally(cognito, stack, username);

describe("a disabled user's confirmation on the local stack (the local Cognito lets it commit)", () => {
  it("answers UserLambdaValidationException with the user-safe message, and no profile or backup is written", async () => {
    const sub = await signUp("fenced");
    await cognito.send(new AdminDisableUserCommand({ UserPoolId: stack.userPoolId, Username: "fenced" }));

    const error = await confirm("fenced").then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.name).toBe("UserLambdaValidationException");
    expect(error?.message).toContain(USER_SAFE_FAILURE_MESSAGE);

    // The commit stays, as in Cognito: the person was told it failed, the purge decides what comes next.
    const user = await cognito.send(
      new AdminGetUserCommand({ UserPoolId: stack.userPoolId, Username: "fenced" }),
    );
    expect(user).toMatchObject({ UserStatus: "CONFIRMED", Enabled: false });
    expect(await container.profiles.get(sub)).toBeUndefined();
    expect(await container.backups.getUserBackup(sub)).toBeUndefined();
    const held = handlerLines.find((line) => line.includes("PURGE.CONFIRMATION_HELD"));
    expect(held).toContain('"reason":"DISABLED"');
    expect(held).not.toContain("fenced@example.com");
  }, 20_000);

  it("lets an enabled user's confirmation through after reading it from the local Cognito", async () => {
    const sub = await signUp("enabled");
    await confirm("enabled");
    expect(await container.profiles.get(sub)).toMatchObject({ id: sub, username: "enabled" });
    expect(await container.backups.getUserBackup(sub)).toBeDefined();
    // The read reached the local Cognito (endpoint and credentials wired): the fence was checked, not skipped.
    expect(handlerLines.filter((line) => line.includes("fence not checked"))).toEqual([]);
  }, 20_000);
});
