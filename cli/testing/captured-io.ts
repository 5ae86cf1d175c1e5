import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliIo } from "../io.js";

/**
 * The CLI's terminal for tests: what it writes is kept, a prompt gets `answer` (default: an empty answer, which
 * confirms nothing), and it runs in `cwd` (default: a fresh temp dir).
 */
export function capturedIo(options: { tty?: boolean; answer?: string; cwd?: string } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const questions: string[] = [];
  const io: CliIo = {
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text), isTTY: false },
    stdinIsTTY: options.tty ?? false,
    prompt: async (question) => {
      questions.push(question);
      return options.answer ?? "";
    },
    env: {},
    cwd: options.cwd ?? mkdtempSync(join(tmpdir(), "cli-")),
  };
  return { io, stdout: () => out.join(""), stderr: () => err.join(""), questions };
}
