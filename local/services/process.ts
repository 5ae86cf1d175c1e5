import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

/** A port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export interface RunningService {
  readonly name: string;
  readonly pid: number;
  /** Stops the process this service started (by its PID) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts a local stand-in and resolves once its output shows `ready`; rejects with its output when it exits
 * or stays silent for `timeoutMs`.
 */
export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  ready: RegExp,
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunningService> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within ${options.timeoutMs ?? 15_000} ms:\n${output}`));
    }, options.timeoutMs ?? 15_000);
    const onData = (data: Buffer) => {
      output += data.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stderr?.off("data", onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve({ name, pid: child.pid ?? -1, stop: () => stopChild(child) });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before it was ready:\n${output}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
