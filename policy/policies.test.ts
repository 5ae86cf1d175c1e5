/**
 * The policy pack without the Pulumi CLI: each policy called with the arguments Pulumi would build, and the
 * whole pack over every resource the program creates under mocks, for each stack file — no violation — and
 * over the program with a resource deliberately weakened — caught.
 */
import type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { type DeclaredResource, type ProgramRun, runProgram, stackNames } from "../infra/testing/program.js";
import {
  bucketSettings,
  clientWriteAttributes,
  iamNoWildcards,
  POLICIES,
  schedulesWithoutRetries,
  statefulProtected,
  userPoolDeletionProtection,
} from "./policies.js";

type Json = Record<string, unknown>;

const options = (protect = false) => ({
  protect,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
});

function resourceArgs(type: string, props: Json, protect = false): ResourceValidationArgs {
  return {
    type,
    props,
    urn: `urn:pulumi:test::p::${type}::r`,
    name: "r",
    opts: options(protect),
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: () => {
      throw new Error("not applicable");
    },
  };
}

/** The violations one resource policy reports for `args`. */
async function violationsOf(
  policy: ResourceValidationPolicy,
  args: ResourceValidationArgs,
): Promise<string[]> {
  const found: string[] = [];
  const validations = policy.validateResource;
  for (const validate of Array.isArray(validations) ? validations : validations ? [validations] : []) {
    await validate(args, (message) => found.push(message));
  }
  return found;
}

async function stackViolationsOf(
  policy: StackValidationPolicy,
  resources: PolicyResource[],
): Promise<string[]> {
  const found: string[] = [];
  const args: StackValidationArgs = {
    resources,
    stackTags: new Map(),
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: () => {
      throw new Error("not applicable");
    },
  };
  await policy.validateStack?.(args, (message) => found.push(message));
  return found;
}

/** The resources of a run as Pulumi hands them to stack policies: outputs, options, parents, dependencies. */
function policyResources(run: ProgramRun): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const made = run.resources.map((declared) => {
    const resource = {
      type: declared.type,
      props: declared.state,
      urn: declared.options.urn,
      name: declared.name,
      opts: { ...options(declared.options.protect), ignoreChanges: [...declared.options.ignoreChanges] },
      dependencies: [] as PolicyResource[],
      propertyDependencies: {} as Record<string, PolicyResource[]>,
      isType: () => false,
      asType: () => undefined,
    } as unknown as PolicyResource;
    byUrn.set(declared.options.urn, resource);
    return { declared, resource };
  });
  for (const { declared, resource } of made) {
    const dependencies = new Set<PolicyResource>();
    for (const [property, urns] of Object.entries(declared.options.propertyDependencies)) {
      const targets = urns.map((urn) => byUrn.get(urn)).filter((r): r is PolicyResource => r !== undefined);
      resource.propertyDependencies[property] = targets;
      for (const target of targets) dependencies.add(target);
    }
    resource.dependencies.push(...dependencies);
    const parent = byUrn.get(declared.options.parent);
    if (parent) (resource as { parent?: PolicyResource }).parent = parent;
  }
  return made.map(({ resource }) => resource);
}

/** Every violation of the whole pack over a run, as `<policy>: <message>`. */
async function packViolations(run: ProgramRun): Promise<string[]> {
  const found: string[] = [];
  for (const policy of POLICIES) {
    if ("validateResource" in policy) {
      for (const declared of run.resources) {
        const args = resourceArgs(declared.type, declared.inputs, declared.options.protect);
        for (const message of await violationsOf(policy, args)) {
          found.push(`${policy.name}: ${declared.name}: ${message}`);
        }
      }
    } else if ("validateStack" in policy) {
      for (const message of await stackViolationsOf(policy, policyResources(run))) {
        found.push(`${policy.name}: ${message}`);
      }
    }
  }
  return found;
}

describe("each policy, called as Pulumi calls it", () => {
  it("user-pool-deletion-protection refuses a pool without it", async () => {
    const pool = "aws:cognito/userPool:UserPool";
    expect(
      await violationsOf(userPoolDeletionProtection, resourceArgs(pool, { deletionProtection: "ACTIVE" })),
    ).toEqual([]);
    expect(
      await violationsOf(userPoolDeletionProtection, resourceArgs(pool, { deletionProtection: "INACTIVE" })),
    ).toHaveLength(1);
  });

  it("client-write-attributes refuses a client without a list, or one that lets users write legacy_sub", async () => {
    const client = "aws:cognito/userPoolClient:UserPoolClient";
    expect(
      await violationsOf(clientWriteAttributes, resourceArgs(client, { writeAttributes: ["email"] })),
    ).toEqual([]);
    expect(await violationsOf(clientWriteAttributes, resourceArgs(client, {}))).toHaveLength(1);
    expect(
      await violationsOf(
        clientWriteAttributes,
        resourceArgs(client, { writeAttributes: ["email", "custom:legacy_sub"] }),
      ),
    ).toEqual(["writeAttributes must not include custom:legacy_sub"]);
  });

  it("bucket-settings refuses SSE-S3, suspended versioning, an open public access block, a policy without TLS", async () => {
    const check = (type: string, props: Json) => violationsOf(bucketSettings, resourceArgs(type, props));
    const s3 = "aws:s3/";
    expect(
      await check(`${s3}bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration`, {
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      }),
    ).toHaveLength(1);
    expect(
      await check(`${s3}bucketVersioning:BucketVersioning`, {
        versioningConfiguration: { status: "Suspended" },
      }),
    ).toHaveLength(1);
    expect(
      await check(`${s3}bucketPublicAccessBlock:BucketPublicAccessBlock`, {
        blockPublicAcls: true,
        blockPublicPolicy: false,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      }),
    ).toEqual(["blockPublicPolicy must be true"]);
    expect(
      await check(`${s3}bucketPolicy:BucketPolicy`, {
        policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] }),
      }),
    ).toHaveLength(1);
  });

  it("iam-no-wildcards refuses `*` and `service:*` actions, and `*` resources beyond network interfaces", async () => {
    const policy = (statement: Json) =>
      resourceArgs("aws:iam/rolePolicy:RolePolicy", { policy: JSON.stringify({ Statement: [statement] }) });
    expect(
      await violationsOf(
        iamNoWildcards,
        policy({ Effect: "Allow", Action: ["ec2:DescribeSubnets"], Resource: "*" }),
      ),
    ).toEqual([]);
    expect(
      await violationsOf(
        iamNoWildcards,
        policy({ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::b" }),
      ),
    ).toHaveLength(1);
    expect(
      await violationsOf(
        iamNoWildcards,
        policy({ Effect: "Allow", Action: ["dynamodb:DeleteTable"], Resource: "*" }),
      ),
    ).toHaveLength(1);
  });
});

describe.each(stackNames())("the whole pack over the program with Pulumi.%s.yaml", (stack) => {
  it("finds no violation", async () => {
    const run = await runProgram(stack);
    expect(run.resources.length).toBeGreaterThan(50);
    expect(await packViolations(run)).toEqual([]);
  }, 60_000);
});

describe("the pack catches a weakened stack", () => {
  it("stateful resources left unprotected (protectStatefulResources: false)", async () => {
    const run = await runProgram("prod", { protectStatefulResources: "false" });
    const found = await stackViolationsOf(statefulProtected, policyResources(run));
    for (const name of [
      "identity-pool",
      "profiles-table",
      "backups-bucket",
      "backups-key",
      "accounts-mysql",
    ]) {
      expect(
        found.some((message) => message.includes(name)),
        name,
      ).toBe(true);
    }
    expect(found.some((message) => message.includes("alarms-key"))).toBe(false);
  }, 60_000);

  it("a pool without deletion protection (deletionProtection: false)", async () => {
    const run = await runProgram("prod", { deletionProtection: "false" });
    expect(await packViolations(run)).toContainEqual(
      expect.stringMatching(/^user-pool-deletion-protection: identity-pool/),
    );
  }, 60_000);

  it("a schedule's function retried by Lambda, or run twice at once", async () => {
    const run = await runProgram("prod");
    const weakened = policyResources(run).map((resource) => {
      if (resource.type === "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig") {
        return { ...resource, props: { ...resource.props, maximumRetryAttempts: 2 } };
      }
      return resource;
    });
    // The schedules still point at the same functions; only their event invoke configs were weakened.
    const byUrn = new Map(weakened.map((r) => [r.urn, r]));
    for (const resource of weakened) {
      for (const property of Object.keys(resource.propertyDependencies)) {
        resource.propertyDependencies[property] = resource.propertyDependencies[property]!.map(
          (d) => byUrn.get(d.urn) ?? d,
        );
      }
    }
    const found = await stackViolationsOf(schedulesWithoutRetries, weakened);
    // Only the schedules that invoke a function (the others start a state machine, which Lambda never retries).
    const invoking = run
      .ofType("aws:scheduler/schedule:Schedule")
      .filter((schedule) => !String((schedule.inputs.target as { arn: string }).arn).includes(":sfn:"));
    expect(invoking.length).toBeGreaterThan(0);
    expect(found.length).toBe(invoking.length);
    expect(found[0]).toMatch(/must not be retried by Lambda/);
  }, 60_000);

  it("every declared resource is seen by the pack (none dropped on the way)", async () => {
    const run = await runProgram("prod");
    const resources = policyResources(run);
    expect(resources).toHaveLength(run.resources.length);
    const unknown = run.resources.filter((r: DeclaredResource) => r.options.urn === "");
    expect(unknown).toEqual([]);
  }, 60_000);
});
