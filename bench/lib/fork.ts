/** Runs a worker in a child process and waits for its one IPC message. */
import { fork } from "node:child_process";
import type { Cleanup } from "./services.js";

/**
 * Forks `file` with `args`, resolves with the first message it sends. The child is registered with
 * `cleanup` (stopped by its PID on error or Ctrl-C) and killed when `timeoutMs` passes without an answer.
 *
 * @param env extra environment variables for the child.
 */
export function runWorker<T>(
  file: string,
  args: readonly string[],
  cleanup: Cleanup,
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv; silent?: boolean; execArgv?: readonly string[] },
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = fork(file, [...args], {
      // A .ts worker runs through tsx; a bundled .js one with plain node.
      execArgv: [...(options.execArgv ?? (file.endsWith(".ts") ? ["--import", "tsx"] : []))],
      env: { ...process.env, ...options.env },
      stdio: ["ignore", options.silent ? "ignore" : "inherit", "inherit", "ipc"],
    });
    let answered = false;
    cleanup.add({
      name: `worker ${file}`,
      pid: child.pid,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      },
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`worker ${file} gave no answer within ${Math.round(options.timeoutMs / 1000)} s`));
    }, options.timeoutMs);
    child.once("message", (message) => {
      answered = true;
      clearTimeout(timer);
      resolve(message as T);
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (!answered)
        reject(new Error(`worker ${file} exited (${signal ?? `code ${code}`}) without an answer`));
    });
  });
}
