/**
 * The local Cognito: cognito-local's server and services, run in this process, with a layer of this project's
 * own in front of its router so that every call this system and its users make is answered as Cognito's API
 * reference documents it (see ./listing.ts, ./attributes.ts, ./import-jobs.ts and the targets below):
 *
 * - Post Confirmation fires on ConfirmSignUp and AdminConfirmSignUp (`PostConfirmation_ConfirmSignUp`) and on
 *   ConfirmForgotPassword (`PostConfirmation_ConfirmForgotPassword`), never on AdminCreateUser, with the event
 *   Cognito sends (`version` "1", the pool's region, `callerContext.clientId` — `CLIENT_ID_NOT_APPLICABLE` for an
 *   admin call). A function error reaches the caller as UserLambdaValidationException "PostConfirmation failed
 *   with error <message>." and the user stays CONFIRMED; cognito-local swallowed it.
 * - A disabled user cannot sign in, reset a password or confirm a sign-up: NotAuthorizedException "User is
 *   disabled." (see {@link DisabledConfirmSignUp} for the confirmation, which AWS does not document).
 * - ListUsers, ListUsersInGroup, ListGroups and AdminListGroupsForUser page (Limit ≤ 60, tokens); ListUsers
 *   filters; CreateGroup refuses an existing group (GroupExistsException); DescribeUserPool estimates the users.
 * - Import jobs.
 * - A call it does not implement is answered with Cognito's error shape naming the operation
 *   (UnsupportedOperationException), never a silent success or a bare HTTP 500.
 *
 * It listens on 127.0.0.1 only, and `stop()` closes it with every timer of its import jobs.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { checkAttributes, checkUsername, checkWritable, readable } from "./attributes.js";
import {
  type CognitoServices,
  type Context,
  cognitoError,
  cognitoLocal,
  type PostConfirmationTrigger,
  type StoredGroup,
  type StoredUser,
  type UserPool,
} from "./cognito-local.js";
import { ownKeysDataStoreFactory } from "./data-store.js";
import { IMPORT_UPLOAD_PATH, type ImportJobTiming, ImportJobs, type ImportLogEntry } from "./import-jobs.js";
import { DEFAULT_TOKEN_TTL_MS, PageTokens, parseUserFilter } from "./listing.js";

/**
 * What ConfirmSignUp does for a disabled user. AWS documents no answer; every public (unauthenticated) call
 * on a disabled user that is reported — sign-in, ForgotPassword — answers NotAuthorizedException "User is
 * disabled.", so `"refuse"` (the default) answers that and leaves the user UNCONFIRMED. `"confirm"` confirms the
 * user (still disabled), for code that must hold whichever Cognito does.
 */
export type DisabledConfirmSignUp = "refuse" | "confirm";

export interface LocalCognitoOptions {
  /** Where cognito-local keeps its pools; a fresh temp dir (deleted on stop) when absent. */
  readonly dataDir?: string;
  /** The code ConfirmSignUp and ConfirmForgotPassword accept (default "123456"). */
  readonly confirmationCode?: string;
  /** Lambda triggers by name, e.g. `{ PostConfirmation: "post-confirmation" }`, invoked on `lambdaEndpoint`. */
  readonly triggers?: Readonly<Record<string, string>>;
  readonly lambdaEndpoint?: string;
  /** What users sign in with in a new pool by default (`["email"]`…); default: plain usernames, as Cognito. */
  readonly usernameAttributes?: readonly string[];
  readonly disabledConfirmSignUp?: DisabledConfirmSignUp;
  readonly importJobs?: ImportJobTiming;
  /** How long a pagination token is accepted (default an hour, as Cognito). */
  readonly pageTokenTtlMs?: number;
}

export interface LocalCognito {
  readonly name: string;
  /** This process: the local Cognito runs in it. */
  readonly pid: number;
  readonly endpoint: string;
  readonly dataDir: string;
  /** The rows an import job did not import, with Cognito's reasons (what its CloudWatch log would say). */
  importLog(jobId: string): readonly ImportLogEntry[];
  stop(): Promise<void>;
}

/** The Lambda `Invoke` of cognito-local's LambdaService (AWS SDK v2 shape), over HTTP to `endpoint`. */
function lambdaClient(endpoint: string | undefined) {
  return {
    invoke: (params: { FunctionName: string; Payload: string }) => ({
      promise: async () => {
        if (!endpoint) throw new Error("no Lambda endpoint configured");
        const response = await fetch(
          `${endpoint}/2015-03-31/functions/${encodeURIComponent(params.FunctionName)}/invocations`,
          { method: "POST", body: params.Payload, signal: AbortSignal.timeout(5_000) },
        );
        const Payload = await response.text();
        if (!response.ok) throw new Error(`Invoke answered HTTP ${response.status}`);
        const FunctionError = response.headers.get("x-amz-function-error") ?? undefined;
        return { StatusCode: response.status, Payload, ...(FunctionError ? { FunctionError } : {}) };
      },
    }),
  };
}

type Route = (ctx: Context, request: Record<string, unknown>) => Promise<Record<string, unknown>>;

function claimsOf(accessToken: unknown): { client_id?: string; sub?: string } {
  if (typeof accessToken !== "string") throw cognitoError("NotAuthorizedException", "Invalid Access Token");
  try {
    return JSON.parse(Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString("utf8")) as {
      client_id?: string;
    };
  } catch {
    throw cognitoError("NotAuthorizedException", "Invalid Access Token");
  }
}

const userDisabled = () => cognitoError("NotAuthorizedException", "User is disabled.");

/** Starts the local Cognito on a free port of 127.0.0.1. */
export async function startLocalCognito(options: LocalCognitoOptions = {}): Promise<LocalCognito> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), "local-cognito-")));
  const dbDir = path.join(dataDir, ".cognito", "db");
  await mkdir(dbDir, { recursive: true });
  const {
    CognitoError,
    CognitoServiceFactoryImpl,
    ConsoleMessageSender,
    CryptoService,
    createServer,
    DefaultConfig,
    isSupportedTarget,
    JwtTokenGenerator,
    MessageDeliveryService,
    Router,
    services: cognitoLocalServices,
    silentLogger,
    StormDBDataStoreFactory,
    UserPoolServiceFactoryImpl,
  } = cognitoLocal();
  const logger = silentLogger();
  const ctx: Context = { logger };
  const code = options.confirmationCode ?? "123456";
  let endpoint = "";

  const config = {
    ...DefaultConfig,
    TriggerFunctions: { ...options.triggers },
    UserPoolDefaults: { UsernameAttributes: [...(options.usernameAttributes ?? [])] },
    ServerConfig: { hostname: "127.0.0.1", port: 0, development: false, https: false as const },
  };
  const clock = new cognitoLocalServices.DateClock();
  const dataStoreFactory = ownKeysDataStoreFactory(new StormDBDataStoreFactory(dbDir));
  const cognito = await new CognitoServiceFactoryImpl(
    dbDir,
    dataStoreFactory,
    new UserPoolServiceFactoryImpl(clock, dataStoreFactory),
  ).create(ctx, config.UserPoolDefaults);
  const lambda = new cognitoLocalServices.LambdaService(
    config.TriggerFunctions,
    lambdaClient(options.lambdaEndpoint) as never,
  );
  const triggers = new cognitoLocalServices.TriggersService(
    clock,
    cognito,
    lambda,
    new CryptoService(config.KMSConfig),
  );
  const postConfirmation: PostConfirmationTrigger = async (_ctx, event) => {
    const functionName = config.TriggerFunctions.PostConfirmation;
    if (!functionName) return;
    const region = event.userPoolId.split("_")[0] ?? "local";
    const payload = {
      version: "1",
      region,
      userPoolId: event.userPoolId,
      userName: event.username,
      callerContext: {
        awsSdkVersion: "aws-sdk-unknown-unknown",
        clientId: event.clientId ?? "CLIENT_ID_NOT_APPLICABLE",
      },
      triggerSource: event.source,
      request: {
        userAttributes: Object.fromEntries(
          event.userAttributes.map((attribute) => [attribute.Name, attribute.Value ?? ""]),
        ),
        ...(event.clientMetadata ? { clientMetadata: event.clientMetadata } : {}),
      },
      response: {},
    };
    let answer: { Payload: string; FunctionError?: string };
    try {
      answer = await lambdaClient(options.lambdaEndpoint)
        .invoke({ FunctionName: functionName, Payload: JSON.stringify(payload) })
        .promise();
    } catch {
      throw cognitoError(
        "UnexpectedLambdaException",
        "PostConfirmation invocation failed due to error AccessDeniedException.",
      );
    }
    if (answer.FunctionError) {
      let message = answer.FunctionError;
      try {
        message = (JSON.parse(answer.Payload) as { errorMessage?: string }).errorMessage ?? message;
      } catch {
        // the raw function error stays the message
      }
      throw cognitoError("UserLambdaValidationException", `PostConfirmation failed with error ${message}.`);
    }
  };
  Object.assign(triggers, { postConfirmation });
  const services: CognitoServices = {
    clock,
    cognito,
    config,
    messages: new cognitoLocalServices.MessagesService(
      triggers,
      new MessageDeliveryService(new ConsoleMessageSender()),
    ),
    otp: () => code,
    tokenGenerator: new JwtTokenGenerator(clock, triggers, { IssuerDomain: "http://127.0.0.1" }),
    triggers,
  };

  const tokens = new PageTokens(options.pageTokenTtlMs ?? DEFAULT_TOKEN_TTL_MS);
  const jobs = new ImportJobs(
    () => endpoint,
    (c, id) => cognito.getUserPool(c, id),
    ctx,
    options.importJobs,
  );
  const base = Router(services);
  const poolOf = (c: Context, request: Record<string, unknown>) =>
    cognito.getUserPool(c, String(request.UserPoolId));
  const clientOf = async (c: Context, clientId: unknown) => {
    const client = typeof clientId === "string" ? await cognito.getAppClient(c, clientId) : null;
    if (!client) throw cognitoError("ResourceNotFoundException", "User pool client does not exist.");
    return client;
  };
  const userOf = async (pool: UserPool, c: Context, username: unknown) =>
    typeof username === "string" ? await pool.getUserByUsername(c, username) : null;
  const userResponse = (user: StoredUser, attributesToGet?: unknown) => ({
    Username: user.Username,
    Attributes: Array.isArray(attributesToGet)
      ? user.Attributes.filter((attribute) => (attributesToGet as string[]).includes(attribute.Name))
      : user.Attributes,
    UserCreateDate: user.UserCreateDate,
    UserLastModifiedDate: user.UserLastModifiedDate,
    Enabled: user.Enabled,
    UserStatus: user.UserStatus,
    ...(user.MFAOptions ? { MFAOptions: user.MFAOptions } : {}),
  });
  const groupResponse = (userPoolId: string) => (group: StoredGroup) => ({
    GroupName: group.GroupName,
    UserPoolId: userPoolId,
    ...(group.Description === undefined ? {} : { Description: group.Description }),
    ...(group.Precedence === undefined ? {} : { Precedence: group.Precedence }),
    ...(group.RoleArn === undefined ? {} : { RoleArn: group.RoleArn }),
    LastModifiedDate: group.LastModifiedDate,
    CreationDate: group.CreationDate,
  });
  const delegate = (target: string): Route => {
    const route = base(target) as unknown as Route;
    return async (c, request) => {
      try {
        return await route(c, request);
      } catch (error) {
        if (error instanceof CognitoError) throw error;
        if (error instanceof Error && error.constructor.name === "UnsupportedError") {
          throw cognitoError(
            "UnsupportedOperationException",
            `The local Cognito does not implement ${target} as called: ${error.message}`,
          );
        }
        // Cognito's answer to its own failures, rather than cognito-local's bare HTTP 500.
        throw cognitoError(
          "InternalErrorException",
          `${target} failed in the local Cognito: ${String(error)}`,
        );
      }
    };
  };
  /** Refuses a public call on a disabled user of the app client's pool. */
  const refuseDisabled = async (c: Context, clientId: unknown, username: unknown) => {
    const client = await clientOf(c, clientId);
    const pool = await cognito.getUserPool(c, client.UserPoolId);
    const user = await userOf(pool, c, username);
    if (user && !user.Enabled) throw userDisabled();
  };

  /** cognito-local fails (HTTP 500) on a group of a pool that has none yet: Cognito's answer instead. */
  const withGroup =
    (target: string): Route =>
    async (c, request) => {
      const groups = await (await poolOf(c, request)).listGroups(c);
      if (!groups.some((group) => group.GroupName === request.GroupName)) {
        throw cognitoError("ResourceNotFoundException", "Group not found.");
      }
      return delegate(target)(c, request);
    };

  /** An import job call: the pool must exist, the answer is the job. */
  const jobCall =
    (act: (userPoolId: string, jobId: unknown) => Record<string, unknown>): Route =>
    async (c, request) => {
      await poolOf(c, request);
      return { UserImportJob: act(String(request.UserPoolId), request.JobId) };
    };

  const ours: Record<string, Route> = {
    AdminAddUserToGroup: withGroup("AdminAddUserToGroup"),
    AdminRemoveUserFromGroup: withGroup("AdminRemoveUserFromGroup"),
    GetGroup: withGroup("GetGroup"),
    UpdateGroup: withGroup("UpdateGroup"),
    DeleteGroup: withGroup("DeleteGroup"),
    SignUp: async (c, request) => {
      const client = await clientOf(c, request.ClientId);
      checkUsername(request.Username);
      checkWritable(client.WriteAttributes, request.UserAttributes);
      checkAttributes(
        await cognito.getUserPool(c, client.UserPoolId),
        request.UserAttributes,
        "userAttributes",
      );
      return delegate("SignUp")(c, request);
    },
    UpdateUserAttributes: async (c, request) => {
      const client = await clientOf(c, claimsOf(request.AccessToken).client_id);
      checkWritable(client.WriteAttributes, request.UserAttributes);
      checkAttributes(
        await cognito.getUserPool(c, client.UserPoolId),
        request.UserAttributes,
        "userAttributes",
      );
      return delegate("UpdateUserAttributes")(c, request);
    },
    GetUser: async (c, request) => {
      const client = await clientOf(c, claimsOf(request.AccessToken).client_id);
      const answer = await delegate("GetUser")(c, request);
      return {
        ...answer,
        UserAttributes: readable(client.ReadAttributes, (answer.UserAttributes as never[]) ?? []),
      };
    },
    AdminCreateUser: async (c, request) => {
      checkUsername(request.Username);
      checkAttributes(await poolOf(c, request), request.UserAttributes, "userAttributes");
      return delegate("AdminCreateUser")(c, request);
    },
    AdminUpdateUserAttributes: async (c, request) => {
      checkAttributes(await poolOf(c, request), request.UserAttributes, "userAttributes");
      return delegate("AdminUpdateUserAttributes")(c, request);
    },
    // Implemented here rather than delegated: a confirmation code verifies the contact it was sent to (the
    // pool's AutoVerifiedAttributes), as Cognito's guide says, and the trigger must see it verified.
    ConfirmSignUp: async (c, request) => {
      const client = await clientOf(c, request.ClientId);
      const pool = await cognito.getUserPool(c, client.UserPoolId);
      const user = await userOf(pool, c, request.Username);
      if (!user) throw cognitoError("UserNotFoundException", "User does not exist.");
      if (!user.Enabled && (options.disabledConfirmSignUp ?? "refuse") === "refuse") throw userDisabled();
      if (user.UserStatus !== "UNCONFIRMED") {
        throw cognitoError(
          "NotAuthorizedException",
          `User cannot be confirmed. Current status is ${user.UserStatus}`,
        );
      }
      if (!user.ConfirmationCode) {
        throw cognitoError("ExpiredCodeException", "Invalid code provided, please request a code again.");
      }
      if (user.ConfirmationCode !== request.ConfirmationCode) {
        throw cognitoError("CodeMismatchException", "Invalid verification code provided, please try again.");
      }
      const verified = (pool.options.AutoVerifiedAttributes ?? [])
        .filter((name) => user.Attributes.some((attribute) => attribute.Name === name && attribute.Value))
        .map((name) => `${name}_verified`);
      const confirmed: StoredUser = {
        ...user,
        UserStatus: "CONFIRMED",
        ConfirmationCode: undefined,
        UserLastModifiedDate: new Date(),
        Attributes: [
          ...user.Attributes.filter((attribute) => !verified.includes(attribute.Name)),
          ...verified.map((Name) => ({ Name, Value: "true" })),
        ],
      };
      await pool.saveUser(c, confirmed);
      await postConfirmation(c, {
        source: "PostConfirmation_ConfirmSignUp",
        clientId: client.ClientId,
        ...(request.ClientMetadata
          ? { clientMetadata: request.ClientMetadata as Record<string, string> }
          : {}),
        username: confirmed.Username,
        userPoolId: client.UserPoolId,
        userAttributes: [...confirmed.Attributes, { Name: "cognito:user_status", Value: "CONFIRMED" }],
      });
      return {};
    },
    ForgotPassword: async (c, request) => {
      await refuseDisabled(c, request.ClientId, request.Username);
      return delegate("ForgotPassword")(c, request);
    },
    ConfirmForgotPassword: async (c, request) => {
      await refuseDisabled(c, request.ClientId, request.Username);
      return delegate("ConfirmForgotPassword")(c, request);
    },
    InitiateAuth: async (c, request) => {
      const parameters = (request.AuthParameters ?? {}) as Record<string, unknown>;
      await refuseDisabled(c, request.ClientId, parameters.USERNAME);
      return delegate("InitiateAuth")(c, request);
    },
    AdminInitiateAuth: async (c, request) => {
      const parameters = (request.AuthParameters ?? {}) as Record<string, unknown>;
      const user = await userOf(await poolOf(c, request), c, parameters.USERNAME);
      if (user && !user.Enabled) throw userDisabled();
      return delegate("AdminInitiateAuth")(c, request);
    },
    ListUsers: async (c, request) => {
      const pool = await poolOf(c, request);
      const matches = parseUserFilter(typeof request.Filter === "string" ? request.Filter : undefined);
      const users = (await pool.listUsers(c)).filter(matches);
      const page = tokens.page(users, (user) => user.Username, {
        scope: `ListUsers\n${String(request.UserPoolId)}\n${String(request.Filter ?? "")}`,
        limit: request.Limit,
        token: request.PaginationToken,
      });
      return {
        Users: page.items.map((user) => userResponse(user, request.AttributesToGet)),
        ...(page.nextToken ? { PaginationToken: page.nextToken } : {}),
      };
    },
    ListUsersInGroup: async (c, request) => {
      const pool = await poolOf(c, request);
      const group = (await pool.listGroups(c)).find((candidate) => candidate.GroupName === request.GroupName);
      if (!group) throw cognitoError("ResourceNotFoundException", "Group not found.");
      const members: StoredUser[] = [];
      for (const username of group.members ?? []) {
        const user = await pool.getUserByUsername(c, username);
        if (user) members.push(user);
      }
      const page = tokens.page(members, (user) => user.Username, {
        scope: `ListUsersInGroup\n${String(request.UserPoolId)}\n${group.GroupName}`,
        limit: request.Limit,
        token: request.NextToken,
      });
      return {
        Users: page.items.map((user) => userResponse(user)),
        ...(page.nextToken ? { NextToken: page.nextToken } : {}),
      };
    },
    ListGroups: async (c, request) => {
      const pool = await poolOf(c, request);
      const page = tokens.page(await pool.listGroups(c), (group) => group.GroupName, {
        scope: `ListGroups\n${String(request.UserPoolId)}`,
        limit: request.Limit,
        token: request.NextToken,
      });
      return {
        Groups: page.items.map(groupResponse(String(request.UserPoolId))),
        ...(page.nextToken ? { NextToken: page.nextToken } : {}),
      };
    },
    AdminListGroupsForUser: async (c, request) => {
      const pool = await poolOf(c, request);
      const user = await userOf(pool, c, request.Username);
      if (!user) throw cognitoError("UserNotFoundException", "User does not exist.");
      const groups = (await pool.listGroups(c)).filter((group) => group.members?.includes(user.Username));
      const page = tokens.page(groups, (group) => group.GroupName, {
        scope: `AdminListGroupsForUser\n${String(request.UserPoolId)}\n${user.Username}`,
        limit: request.Limit,
        token: request.NextToken,
      });
      return {
        Groups: page.items.map(groupResponse(String(request.UserPoolId))),
        ...(page.nextToken ? { NextToken: page.nextToken } : {}),
      };
    },
    CreateGroup: async (c, request) => {
      const pool = await poolOf(c, request);
      // (getGroupByGroupName fails on a pool that has no group yet.)
      if ((await pool.listGroups(c)).some((group) => group.GroupName === request.GroupName)) {
        throw cognitoError("GroupExistsException", "A group with the name already exists.");
      }
      return delegate("CreateGroup")(c, request);
    },
    DescribeUserPool: async (c, request) => {
      const answer = await delegate("DescribeUserPool")(c, request);
      const pool = await poolOf(c, request);
      const UserPool = {
        ...(answer.UserPool as object),
        EstimatedNumberOfUsers: (await pool.listUsers(c)).length,
      };
      return { ...answer, UserPool };
    },
    DeleteUserPool: async (c, request) => {
      const answer = await delegate("DeleteUserPool")(c, request);
      jobs.forgetPool(String(request.UserPoolId));
      return answer;
    },
    GetCSVHeader: async (c, request) => {
      const pool = await poolOf(c, request);
      return { UserPoolId: request.UserPoolId, CSVHeader: await jobs.csvHeader(pool) };
    },
    CreateUserImportJob: async (c, request) => {
      await poolOf(c, request);
      return { UserImportJob: jobs.create(String(request.UserPoolId), request) };
    },
    StartUserImportJob: jobCall((userPoolId, jobId) => jobs.start(userPoolId, jobId)),
    DescribeUserImportJob: jobCall((userPoolId, jobId) => jobs.describe(userPoolId, jobId)),
    StopUserImportJob: jobCall((userPoolId, jobId) => jobs.stop(userPoolId, jobId)),
    ListUserImportJobs: async (c, request) => {
      await poolOf(c, request);
      const page = tokens.page(jobs.list(String(request.UserPoolId)), (job) => String(job.JobId), {
        scope: `ListUserImportJobs\n${String(request.UserPoolId)}`,
        limit: request.MaxResults,
        token: request.PaginationToken,
      });
      return { UserImportJobs: page.items, ...(page.nextToken ? { PaginationToken: page.nextToken } : {}) };
    },
  };

  const router = (target: string) =>
    ours[target] ??
    (isSupportedTarget(target)
      ? delegate(target)
      : async () => {
          throw cognitoError(
            "UnsupportedOperationException",
            `The local Cognito does not implement ${target}`,
          );
        });
  const app = createServer(router as never, logger, config.ServerConfig, services);
  // The import jobs' pre-signed URL (an S3 PUT in AWS), served here.
  (app.application as { put: (path: string, handler: unknown) => void }).put(
    `${IMPORT_UPLOAD_PATH}:jobId`,
    (request: never, response: never) => jobs.handleUpload(request, response),
  );
  let server: Server;
  try {
    server = (await app.start()) as Server;
  } catch (error) {
    if (ownDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  endpoint = `http://127.0.0.1:${port}`;
  let stopped = false;
  return {
    name: "cognito",
    pid: process.pid,
    endpoint,
    dataDir,
    importLog: (jobId) => jobs.logOf(jobId),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      jobs.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
