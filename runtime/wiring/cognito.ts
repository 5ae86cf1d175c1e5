/** The Cognito adapters of a process: one client and one pacing of calls, shared so the quotas add up. */
import { CognitoCalls, createCognitoClient } from "../../adapters/cognito/cognito-calls.js";
import { CognitoUserDirectory } from "../../adapters/cognito/user-directory.js";
import { CognitoUserImport } from "../../adapters/cognito/user-import.js";
import type { UserDirectory } from "../../core/ports/user-directory.js";
import type { UserImportService } from "../../core/ports/user-import.js";
import type { Container } from "../container.js";

function calls(container: Container): CognitoCalls {
  return container.once("cognitoCalls", () => new CognitoCalls());
}

function client(container: Container) {
  return container.once("cognitoClient", () => {
    const endpoint = container.env.optionalUrl("COGNITO_ENDPOINT");
    return createCognitoClient({
      region: container.region,
      ...(endpoint === undefined ? {} : { endpoint }),
      ...container.localCredentials(endpoint),
    });
  });
}

/** The directory of the stack's pool (`USER_POOL_ID`), or of another pool (a restore into a new pool). */
export function userDirectory(
  container: Container,
  userPoolId: string = container.userPoolId,
): UserDirectory {
  return container.once(
    `directory:${userPoolId}`,
    () => new CognitoUserDirectory(client(container), userPoolId, { calls: calls(container) }),
  );
}

/**
 * The directory of the pool a trigger runs for (its id comes in the event), for reads that must end within
 * `timeoutMs`: a client of its own whose connection and request each time out within that budget, and
 * throttling waited out, in short steps, for that budget at most. Whatever still runs at the budget's end is
 * abandoned by the caller.
 */
export function triggerDirectory(
  container: Container,
  userPoolId: string,
  options: { readonly timeoutMs: number },
): UserDirectory {
  const client = container.once(`cognitoTriggerClient:${options.timeoutMs}`, () => {
    const endpoint = container.env.optionalUrl("COGNITO_ENDPOINT");
    return createCognitoClient({
      region: container.region,
      ...(endpoint === undefined ? {} : { endpoint }),
      ...container.localCredentials(endpoint),
      connectionTimeoutMs: options.timeoutMs,
      requestTimeoutMs: options.timeoutMs,
    });
  });
  return container.once(
    `triggerDirectory:${userPoolId}`,
    () =>
      new CognitoUserDirectory(client, userPoolId, {
        calls: new CognitoCalls({ maxThrottledMs: options.timeoutMs, baseDelayMs: 50, maxDelayMs: 100 }),
      }),
  );
}

/** The import jobs of a pool; reads `IMPORT_LOGS_ROLE_ARN`. */
export function userImporter(
  container: Container,
  userPoolId: string = container.userPoolId,
): UserImportService {
  return container.once(
    `importer:${userPoolId}`,
    () =>
      new CognitoUserImport(client(container), userPoolId, {
        cloudWatchLogsRoleArn: container.env.arn("IMPORT_LOGS_ROLE_ARN", "iam"),
        calls: calls(container),
      }),
  );
}
