/**
 * The local Cognito as one of the local stand-ins (same shape as the others: a name, a pid, `stop()`): cognito-local
 * with this project's layer in front, run in this process. See ../cognito/server.ts for what it answers.
 */
export {
  type LocalCognito,
  type LocalCognitoOptions as CognitoLocalOptions,
  startLocalCognito as startCognitoLocal,
} from "../cognito/server.js";
