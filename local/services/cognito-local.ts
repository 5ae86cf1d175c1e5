import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, type RunningService, startProcess } from "./process.js";

export interface LocalCognito extends RunningService {
  readonly endpoint: string;
  /** The directory cognito-local keeps its pools in (removed on stop unless it was given). */
  readonly dataDir: string;
}

export interface CognitoLocalOptions {
  /** Where to keep pools; a fresh temp dir (deleted on stop) when absent. */
  readonly dataDir?: string;
  /** The confirmation code ConfirmSignUp accepts (cognito-local's `CODE`). */
  readonly confirmationCode?: string;
  /**
   * Lambda triggers by name, e.g. `{ PostConfirmation: "post-confirmation" }`, invoked on
   * `lambdaEndpoint` (`POST /2015-03-31/functions/<name>/invocations`). Triggers are global to the server.
   */
  readonly triggers?: Readonly<Record<string, string>>;
  readonly lambdaEndpoint?: string;
  /**
   * What users sign in with by default in a new pool (`["email"]`…). cognito-local's own default is email,
   * which makes it replace every username with the sub; default here: plain usernames, as Cognito does.
   */
  readonly usernameAttributes?: readonly string[];
}

/** Starts cognito-local on a free port of 127.0.0.1. */
export async function startCognitoLocal(options: CognitoLocalOptions = {}): Promise<LocalCognito> {
  const port = await freePort();
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), "cognito-local-")));
  await mkdir(path.join(dataDir, ".cognito"), { recursive: true });
  const config: Record<string, unknown> = {
    UserPoolDefaults: { UsernameAttributes: options.usernameAttributes ?? [] },
  };
  if (options.triggers) config.TriggerFunctions = options.triggers;
  if (options.lambdaEndpoint) {
    config.LambdaClient = {
      endpoint: options.lambdaEndpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    };
  }
  await writeFile(path.join(dataDir, ".cognito", "config.json"), JSON.stringify(config, null, 2));
  const start = path.join(path.dirname(require.resolve("cognito-local/package.json")), "lib/bin/start.js");
  const service = await startProcess("cognito-local", process.execPath, [start], /Cognito Local running on/, {
    cwd: dataDir,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(port),
      CODE: options.confirmationCode ?? "123456",
    },
  });
  return {
    ...service,
    endpoint: `http://127.0.0.1:${port}`,
    dataDir,
    stop: async () => {
      await service.stop();
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
