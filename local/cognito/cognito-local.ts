/**
 * The parts of cognito-local (the npm package) the local Cognito is built from: its services, router and HTTP
 * server, loaded from the package's own files, and its error type (a thrown `CognitoError` becomes Cognito's
 * error shape: HTTP 400, `{"__type": code, "message": …}`).
 *
 * cognito-local requires the AWS SDK v2 (for KMS), which prints an end-of-support notice when loaded; the
 * notice is turned off first, since nothing here calls AWS through it.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- the package has no exports map: its files by path */
function load() {
  process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= "1";
  const pino = require(
    require.resolve("pino", { paths: [require.resolve("cognito-local/package.json")] }),
  ) as (options: { level: string }) => import("pino").Logger;
  return {
    CognitoError: (require("cognito-local/lib/errors") as typeof import("cognito-local/lib/errors"))
      .CognitoError,
    createServer: (
      require("cognito-local/lib/server/server") as typeof import("cognito-local/lib/server/server")
    ).createServer,
    Router: (require("cognito-local/lib/server/Router") as typeof import("cognito-local/lib/server/Router"))
      .Router,
    DefaultConfig: (
      require("cognito-local/lib/server/config") as typeof import("cognito-local/lib/server/config")
    ).DefaultConfig,
    isSupportedTarget: (
      require("cognito-local/lib/targets/Target") as typeof import("cognito-local/lib/targets/Target")
    ).isSupportedTarget,
    services: require("cognito-local/lib/services") as typeof import("cognito-local/lib/services"),
    CognitoServiceFactoryImpl: (
      require("cognito-local/lib/services/cognitoService") as typeof import("cognito-local/lib/services/cognitoService")
    ).CognitoServiceFactoryImpl,
    UserPoolServiceFactoryImpl: (
      require("cognito-local/lib/services/userPoolService") as typeof import("cognito-local/lib/services/userPoolService")
    ).UserPoolServiceFactoryImpl,
    StormDBDataStoreFactory: (
      require("cognito-local/lib/services/dataStore/stormDb") as typeof import("cognito-local/lib/services/dataStore/stormDb")
    ).StormDBDataStoreFactory,
    CryptoService: (
      require("cognito-local/lib/services/crypto") as typeof import("cognito-local/lib/services/crypto")
    ).CryptoService,
    MessageDeliveryService: (
      require("cognito-local/lib/services/messageDelivery/messageDelivery") as typeof import("cognito-local/lib/services/messageDelivery/messageDelivery")
    ).MessageDeliveryService,
    ConsoleMessageSender: (
      require("cognito-local/lib/services/messageDelivery/consoleMessageSender") as typeof import("cognito-local/lib/services/messageDelivery/consoleMessageSender")
    ).ConsoleMessageSender,
    JwtTokenGenerator: (
      require("cognito-local/lib/services/tokenGenerator") as typeof import("cognito-local/lib/services/tokenGenerator")
    ).JwtTokenGenerator,
    /** A logger that says nothing: the local Cognito's answers are what tests and the walk-through look at. */
    silentLogger: () => pino({ level: "silent" }),
  };
}
/* eslint-enable @typescript-eslint/no-require-imports */

let loaded: ReturnType<typeof load> | undefined;

/**
 * cognito-local's modules, loaded on first use (not when this file is imported: the local stack starts its
 * other stand-ins first, and loading cognito-local takes a while).
 */
export function cognitoLocal(): ReturnType<typeof load> {
  loaded ??= load();
  return loaded;
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
  return new (cognitoLocal().CognitoError)(code, message);
}
