/** What a person does in an app on the local stack, through its app client: sign up, confirm. */
import {
  type CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { DEMO_PASSWORD } from "../local/demo.js";
import type { LocalStack } from "../local/stack.js";

type Stack = Pick<LocalStack, "clientId" | "confirmationCode">;

/** Signs `username` up with the email `<username>@example.com`; returns the new user's sub. */
export async function signUp(
  cognito: CognitoIdentityProviderClient,
  stack: Stack,
  username: string,
): Promise<string> {
  const { UserSub } = await cognito.send(
    new SignUpCommand({
      ClientId: stack.clientId,
      Username: username,
      Password: DEMO_PASSWORD,
      UserAttributes: [{ Name: "email", Value: `${username}@example.com` }],
    }),
  );
  if (!UserSub) throw new Error("SignUp returned no sub");
  return UserSub;
}

/** ConfirmSignUp with the local stack's code: resolves when the person would be told "confirmed". */
export async function confirm(
  cognito: CognitoIdentityProviderClient,
  stack: Stack,
  username: string,
): Promise<void> {
  await cognito.send(
    new ConfirmSignUpCommand({
      ClientId: stack.clientId,
      Username: username,
      ConfirmationCode: stack.confirmationCode,
    }),
  );
}
