/**
 * The parts of cognito-local (the npm package) the local Cognito is built from: its services, router and HTTP
 * server, loaded from the package's own files, and its error type (a thrown `CognitoError` becomes Cognito's
 * error shape: HTTP 400, `{"__type": code, "message": …}`).
 *
 * cognito-local requires the AWS SDK v2 (for KMS), which prints an end-of-support notice when loaded; the
 * notice is turned off first, since nothing here calls AWS through it.
 */
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= "1";

/* eslint-disable @typescript-eslint/no-require-imports -- the package has no exports map: its files by path */
export const { CognitoError } =
  require("cognito-local/lib/errors") as typeof import("cognito-local/lib/errors");
export const { createServer } =
  require("cognito-local/lib/server/server") as typeof import("cognito-local/lib/server/server");
export const { Router } =
  require("cognito-local/lib/server/Router") as typeof import("cognito-local/lib/server/Router");
export const { DefaultConfig } =
  require("cognito-local/lib/server/config") as typeof import("cognito-local/lib/server/config");
export const { isSupportedTarget } =
  require("cognito-local/lib/targets/Target") as typeof import("cognito-local/lib/targets/Target");
export const services = require("cognito-local/lib/services") as typeof import("cognito-local/lib/services");
export const { CognitoServiceFactoryImpl } =
  require("cognito-local/lib/services/cognitoService") as typeof import("cognito-local/lib/services/cognitoService");
export const { UserPoolServiceFactoryImpl } =
  require("cognito-local/lib/services/userPoolService") as typeof import("cognito-local/lib/services/userPoolService");
export const { StormDBDataStoreFactory } =
  require("cognito-local/lib/services/dataStore/stormDb") as typeof import("cognito-local/lib/services/dataStore/stormDb");
export const { CryptoService } =
  require("cognito-local/lib/services/crypto") as typeof import("cognito-local/lib/services/crypto");
export const { MessageDeliveryService } =
  require("cognito-local/lib/services/messageDelivery/messageDelivery") as typeof import("cognito-local/lib/services/messageDelivery/messageDelivery");
export const { ConsoleMessageSender } =
  require("cognito-local/lib/services/messageDelivery/consoleMessageSender") as typeof import("cognito-local/lib/services/messageDelivery/consoleMessageSender");
export const { JwtTokenGenerator } =
  require("cognito-local/lib/services/tokenGenerator") as typeof import("cognito-local/lib/services/tokenGenerator");
const pinoFactory = require(
  require.resolve("pino", { paths: [require.resolve("cognito-local/package.json")] }),
) as (options: { level: string }) => import("pino").Logger;
/* eslint-enable @typescript-eslint/no-require-imports */

/** A logger that says nothing: the local Cognito's answers are what tests and the walk-through look at. */
export function silentLogger(): import("pino").Logger {
  return pinoFactory({ level: "silent" });
}

export type CognitoServices = import("cognito-local/lib/services").Services;
export type UserPool = import("cognito-local/lib/services").UserPoolService;
export type StoredUser = import("cognito-local/lib/services/userPoolService").User;
export type StoredGroup = import("cognito-local/lib/services/userPoolService").Group;
export type Context = import("cognito-local/lib/services/context").Context;
export type PostConfirmationTrigger =
  import("cognito-local/lib/services/triggers/postConfirmation").PostConfirmationTrigger;

/** Cognito's error answer for `code` (e.g. `InvalidParameterException`) with its message. */
export function cognitoError(code: string, message: string): Error {
  return new CognitoError(code, message);
}
