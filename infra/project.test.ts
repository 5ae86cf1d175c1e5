import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { validateWorkflow } from "@action-validator/core";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { JOB_NAMES } from "../jobs/catalogue.js";
import { PROJECT } from "./config.js";
import { REPO_ROOT, stackNames } from "./testing/program.js";

const run = promisify(execFile);

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string;
  if?: string;
  uses?: string;
  strategy?: { matrix: { stack: string[] } };
  steps: Step[];
}
interface Workflow {
  on: Record<string, { branches?: string[] } | null>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

interface ProjectFile {
  name: string;
  runtime: { name: string; options?: { typescript?: boolean; nodeargs?: string } };
  main: string;
}

const project = parse(readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as ProjectFile;

describe("Pulumi.yaml", () => {
  it("names the project the config keys are namespaced with, and runs infra/ on Node.js", () => {
    expect(project.name).toBe(PROJECT);
    expect(project.runtime.name).toBe("nodejs");
    expect(project.main).toBe("infra/");
  });

  it("loads the program as Pulumi's Node.js host does, with the project's nodeargs, and gets every output", async () => {
    // Pulumi's host runs `node <nodeargs> …` and then `require(<main>)`; the same here, under mocks.
    const nodeargs = (project.runtime.options?.nodeargs ?? "").split(/\s+/).filter(Boolean);
    const { stdout } = await run(
      process.execPath,
      [...nodeargs, path.join("infra", "testing", "load-program.ts"), "dev", project.main],
      { cwd: REPO_ROOT, timeout: 60_000 },
    );
    const loaded = JSON.parse(stdout) as { resources: number; outputs: Record<string, unknown> };
    expect(loaded.resources).toBeGreaterThan(50);
    expect(loaded.outputs).toMatchObject({
      userPoolId: expect.stringMatching(/^eu-west-1_/),
      profileTable: expect.any(String),
      backupBucket: expect.any(String),
    });
    expect(Object.keys(loaded.outputs.functionNames as object).sort()).toEqual([...JOB_NAMES].sort());
  }, 90_000);
});

describe(".github/workflows", () => {
  const dir = path.join(REPO_ROOT, ".github", "workflows");
  const files = readdirSync(dir).filter((f) => f.endsWith(".yml"));
  const text = (file: string) => readFileSync(path.join(dir, file), "utf8");

  it.each(files)("%s is a valid workflow", (file) => {
    expect(validateWorkflow(text(file)).errors).toEqual([]);
  });

  it("the validator does catch a broken workflow", () => {
    const broken = "name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n";
    expect(validateWorkflow(broken).errors).not.toEqual([]);
  });

  it("previews every stack on pull requests and comments the result", () => {
    const preview = parse(text("preview.yml")) as Workflow;
    expect(Object.keys(preview.on)).toEqual(["pull_request"]);
    const job = preview.jobs.preview!;
    expect([...(job.strategy?.matrix.stack ?? [])].sort()).toEqual(stackNames());
    const pulumi = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(pulumi?.with).toMatchObject({ command: "preview", "comment-on-pr": true });
    expect(preview.permissions).toMatchObject({ "id-token": "write", "pull-requests": "write" });
  });

  it("runs pulumi up on main, stack after stack, building the bundles first", () => {
    const deploy = parse(text("deploy.yml")) as Workflow;
    expect(deploy.on.push?.branches).toEqual(["main"]);
    expect(deploy.jobs.prod?.needs).toBe("dev");
    const up = parse(text("pulumi-up.yml")) as Workflow;
    const steps = up.jobs.up!.steps;
    const build = steps.findIndex((s) => s.run === "npm run build");
    const pulumi = steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(build).toBeGreaterThan(-1);
    expect(pulumi).toBeGreaterThan(build);
    expect(steps[pulumi]!.with).toMatchObject({ command: "up" });
  });

  it.each(files)("%s sets up Node 22, the Lambda runtime's, wherever it sets up Node", (file) => {
    const workflow = parse(text(file)) as Workflow;
    for (const job of Object.values(workflow.jobs)) {
      for (const step of job.steps ?? []) {
        if (step.uses?.startsWith("actions/setup-node@")) expect(step.with?.["node-version"]).toBe(22);
      }
    }
  });

  it.each(files)(
    "%s pins every action to a full commit SHA, and checks out without keeping credentials",
    (file) => {
      const workflow = parse(text(file)) as Workflow;
      for (const job of Object.values(workflow.jobs)) {
        for (const step of job.steps ?? []) {
          if (step.uses === undefined) continue;
          expect(step.uses, file).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
          if (step.uses.startsWith("actions/checkout@"))
            expect(step.with?.["persist-credentials"]).toBe(false);
        }
      }
    },
  );

  it("deploys from main only, after the tests, and previews never run for a fork's pull request", () => {
    const deploy = parse(text("deploy.yml")) as Workflow;
    expect(Object.keys(deploy.on)).toEqual(["push"]);
    expect(deploy.on.push?.branches).toEqual(["main"]);
    expect(deploy.jobs.test?.uses).toBe("./.github/workflows/ci.yml");
    expect(deploy.jobs.dev?.needs).toBe("test");
    for (const job of [deploy.jobs.dev!, deploy.jobs.prod!])
      expect(job.if).toBe("github.ref == 'refs/heads/main'");
    const ci = parse(text("ci.yml")) as Workflow;
    expect(Object.keys(ci.on)).toContain("workflow_call");
    const up = parse(text("pulumi-up.yml")) as Workflow;
    expect(up.jobs.up?.if).toBe("github.ref == 'refs/heads/main'");
    expect(text("pulumi-up.yml")).toContain("vars.AWS_DEPLOY_ROLE_ARN");
    expect(text("pulumi-up.yml")).not.toContain("AWS_PREVIEW_ROLE_ARN");

    const preview = parse(text("preview.yml")) as Workflow;
    expect(preview.jobs.preview?.if).toBe(
      "github.event.pull_request.head.repo.full_name == github.repository",
    );
    expect(text("preview.yml")).toContain("vars.AWS_PREVIEW_ROLE_ARN");
    expect(text("preview.yml")).not.toContain("AWS_DEPLOY_ROLE_ARN");
  });

  it.each(files)("%s uses OIDC for AWS, never long-lived keys", (file) => {
    const workflow = text(file);
    expect(workflow).not.toMatch(
      /aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/,
    );
    if (workflow.includes("configure-aws-credentials")) {
      expect(workflow).toContain("role-to-assume:");
      expect((parse(workflow) as Workflow).permissions?.["id-token"]).toBe("write");
    }
  });
});
