import path from "node:path";
import { freePort, type RunningService, startProcess } from "./process.js";

export interface LocalDynamo extends RunningService {
  readonly endpoint: string;
}

/** Starts dynalite in memory on a free port of 127.0.0.1 (tables become ACTIVE at once). */
export async function startDynalite(): Promise<LocalDynamo> {
  const port = await freePort();
  const cli = path.join(path.dirname(require.resolve("dynalite/package.json")), "cli.js");
  const service = await startProcess(
    "dynalite",
    process.execPath,
    [cli, "--host", "127.0.0.1", "--port", String(port), "--createTableMs", "0", "--deleteTableMs", "0"],
    /listening/i,
  );
  return { ...service, endpoint: `http://127.0.0.1:${port}` };
}
