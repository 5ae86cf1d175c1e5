/**
 * What the CLI touches of its process: two output streams, whether a person is at the terminal, a prompt,
 * the environment and the working directory. `run` takes them as a value so tests drive it with buffers.
 */
import { createInterface } from "node:readline";

export interface Writer {
  write(text: string): unknown;
}

export interface CliIo {
  readonly stdout: Writer;
  /** Human text, progress and errors. `isTTY` turns the progress line on. */
  readonly stderr: Writer & { readonly isTTY?: boolean };
  /** Whether a person can answer a prompt. */
  readonly stdinIsTTY: boolean;
  /** Asks a question (on stderr) and resolves with the answer line. */
  prompt(question: string): Promise<string>;
  /** The environment: the AWS target's variables come from here; `--profile` sets AWS_PROFILE in it. */
  readonly env: Record<string, string | undefined>;
  /** Where `.local/stack.json` and relative `--outputs` paths are looked up. */
  readonly cwd: string;
}

/** The real process: stdout, stderr, a readline prompt on stdin. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: process.stdin.isTTY === true,
    prompt: (question) =>
      new Promise((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        rl.question(question, (answer) => {
          rl.close();
          resolve(answer);
        });
      }),
    env: process.env,
    cwd: process.cwd(),
  };
}

/**
 * One progress line on stderr, rewritten in place (`\r`), at most every 100 ms. Silent when stderr is not
 * a terminal or when `--json` asked for machine output.
 */
export class Progress {
  private readonly counts = new Map<string, number>();
  private lastRender = 0;
  private shown = false;
  private label = "";

  constructor(
    private readonly stderr: CliIo["stderr"],
    private readonly enabled: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  start(label: string): void {
    this.label = label;
    this.counts.clear();
    this.render(true);
  }

  add(counter: string, by = 1): void {
    if (by === 0) return;
    this.counts.set(counter, (this.counts.get(counter) ?? 0) + by);
    this.render(false);
  }

  /** Clears the line, so the next output starts on a clean line. */
  done(): void {
    if (this.enabled && this.shown) this.stderr.write("\r\x1b[K");
    this.shown = false;
  }

  private render(force: boolean): void {
    if (!this.enabled) return;
    const now = this.now();
    if (!force && now - this.lastRender < 100) return;
    this.lastRender = now;
    const parts = [...this.counts].map(([name, count]) => `${name} ${count}`);
    this.stderr.write(`\r\x1b[K${this.label}${parts.length ? `: ${parts.join(", ")}` : " …"}`);
    this.shown = true;
  }
}
