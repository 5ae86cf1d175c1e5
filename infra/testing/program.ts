/**
 * Runs the real Pulumi program under `pulumi.runtime.setMocks`, with a stack's real config file, and hands
 * back every resource it declared with its inputs. The mocks fill in what AWS would compute (ids, ARNs, the
 * RDS secret, the awsx VPC's subnets), because an output the mock leaves out is `undefined` in the program.
 *
 * Pitfalls this module exists for: resources declared before `setMocks` are silently dropped (so the program
 * is built here, after it); awsx's Vpc is a remote component (no children under mocks: its outputs come from
 * here); Pulumi reads a FileArchive only when deploying (the program checks the bundles itself).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { PROJECT, parseStackConfig, readStackConfig, type StackConfig } from "../config.js";
import { lookupAwsContext } from "../context.js";
import { createLifecycleStack } from "../stack.js";

export const ACCOUNT_ID = "123456789012";
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export interface DeclaredResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly state: Record<string, unknown>;
  readonly id: string;
  /** The resource options the program sent to the engine (read off the registration request). */
  readonly options: DeclaredOptions;
}

/** The resource options a registration carries that the mocks' `newResource` does not see. */
export interface DeclaredOptions {
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly ignoreChanges: readonly string[];
  /** The parent's URN ("" for none). */
  readonly parent: string;
  /** The resource's own URN, as the mock engine names it. */
  readonly urn: string;
  /** The URNs each input property depends on (what Pulumi hands a stack policy as propertyDependencies). */
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
}

export interface ProgramRun {
  readonly resources: DeclaredResource[];
  readonly outputs: Record<string, unknown>;
  readonly region: string;
  /** The resources of one type token (`aws:iam/role:Role`). */
  ofType(type: string): DeclaredResource[];
  /** The one resource of a type whose name is `name`; fails the test when there is not exactly one. */
  named(type: string, name: string): DeclaredResource;
  /** The resource whose computed state holds `value` at `key` (an ARN, a name, an id). */
  byState(type: string, key: string, value: unknown): DeclaredResource;
}

/** Every stack with a config file in the repository (`Pulumi.<stack>.yaml`). */
export function stackNames(): string[] {
  return readdirSync(REPO_ROOT)
    .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
    .filter((stack): stack is string => stack !== undefined)
    .sort();
}

/** A stack's `config:` map, as the Pulumi CLI hands it to the program: strings, objects as JSON. */
export function stackConfigFile(stack: string): Record<string, string> {
  const file = path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
  const document = parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(document?.config ?? {})) {
    if (value !== null && typeof value === "object" && "secure" in value) {
      config[key] = "secret-placeholder";
    } else {
      config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return config;
}

/**
 * Runs the program for `stack` (its Pulumi.<stack>.yaml), with `overrides` applied on top: keys without a
 * namespace belong to this project (`{ "deletionProtection": "false" }`); `null` removes a key.
 */
/** The mocks of one run, and what they recorded. */
export interface InstalledMocks {
  readonly resources: DeclaredResource[];
  readonly region: string;
}

/**
 * Installs Pulumi's mocks and the config of `stack` (its Pulumi.<stack>.yaml), with `overrides` applied on
 * top: keys without a namespace belong to this project (`{ "deletionProtection": "false" }`); `null`
 * removes a key. Declare resources only after this.
 */
export async function installMocks(
  stack: string,
  overrides: Record<string, string | null> = {},
): Promise<InstalledMocks> {
  const config = stackConfigFile(stack);
  for (const [key, value] of Object.entries(overrides)) {
    const full = key.includes(":") ? key : `${PROJECT}:${key}`;
    if (value === null) delete config[full];
    else config[full] = value;
  }
  const region = config["aws:region"] ?? "us-east-1";
  const resources: DeclaredResource[] = [];

  const options = new Map<string, DeclaredOptions>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const { id, state } = computed(args.type, args.name, args.inputs, region);
        const declared = options.get(`${args.type}::${args.name}`) ?? NO_OPTIONS;
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          state,
          id,
          options: declared,
        });
        return { id, state };
      },
      call(args) {
        switch (args.token) {
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: ACCOUNT_ID, arn: `arn:aws:iam::${ACCOUNT_ID}:user/deployer`, userId: "AIDA" };
          case "aws:index/getRegion:getRegion":
            return { name: region, region, id: region, endpoint: `ec2.${region}.amazonaws.com` };
          case "aws:index/getPartition:getPartition":
            return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
          default:
            throw new Error(`unexpected invoke ${args.token}: add it to the mocks`);
        }
      },
    },
    PROJECT,
    stack,
    false,
  );
  recordOptions(options);
  pulumi.runtime.setAllConfig(config, []);
  return { resources, region };
}

const NO_OPTIONS: DeclaredOptions = {
  protect: false,
  retainOnDelete: false,
  ignoreChanges: [],
  parent: "",
  urn: "",
  propertyDependencies: {},
};

/** The registration request's fields the tests read (see @pulumi/pulumi's proto/resource_pb). */
interface RegisterResourceRequest {
  getType(): string;
  getName(): string;
  getProtect(): boolean;
  getRetainondelete(): boolean;
  getIgnorechangesList(): string[];
  getParent(): string;
  getPropertydependenciesMap(): {
    forEach(visit: (value: { getUrnsList(): string[] }, key: string) => void): void;
  };
}

/** A resource's URN as Pulumi's mock monitor makes it (its type qualified by its parent's). */
function urnOf(parent: string, type: string, name: string): string {
  const qualified = parent ? `${parent.split("::")[2]!.split("$").pop()!}$${type}` : type;
  return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualified}::${name}`;
}

/**
 * Pulumi's mocks hand `newResource` the inputs only: `protect`, `retainOnDelete` and the rest travel beside
 * them in the registration request. Wrap the mock monitor's `registerResource` to read them off the request
 * just before the mock sees the resource.
 */
function recordOptions(options: Map<string, DeclaredOptions>): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(request: RegisterResourceRequest, callback: unknown): unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    const propertyDependencies: Record<string, string[]> = {};
    request.getPropertydependenciesMap().forEach((value, key) => {
      propertyDependencies[key] = value.getUrnsList();
    });
    options.set(`${request.getType()}::${request.getName()}`, {
      protect: request.getProtect(),
      retainOnDelete: request.getRetainondelete(),
      ignoreChanges: request.getIgnorechangesList(),
      parent: request.getParent(),
      urn: urnOf(request.getParent(), request.getType(), request.getName()),
      propertyDependencies,
    });
    return register(request, callback);
  };
}

/** A stack's validated configuration, read from its config file as the program would. */
export function loadStackConfig(stack: string): StackConfig {
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(stackConfigFile(stack))) {
    if (key.startsWith(`${PROJECT}:`)) raw[key.slice(PROJECT.length + 1)] = value;
  }
  return parseStackConfig(raw);
}

/** Runs the program (as infra/index.ts does) for `stack` under mocks; see {@link installMocks}. */
export async function runProgram(
  stack: string,
  overrides: Record<string, string | null> = {},
  options: { bundleDir?: string } = {},
): Promise<ProgramRun> {
  const { resources, region } = await installMocks(stack, overrides);
  const stackOutputs = createLifecycleStack(readStackConfig(), lookupAwsContext(), options);
  const outputs = await resolveOutputs(stackOutputs);
  await settled(() => resources.length);

  const ofType = (type: string) => resources.filter((r) => r.type === type);
  return {
    resources,
    outputs,
    region,
    ofType,
    named(type, name) {
      const found = ofType(type).filter((r) => r.name === name);
      if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
      return found[0]!;
    },
    byState(type, key, value) {
      const found = ofType(type).filter((r) => r.state[key] === value);
      if (found.length !== 1) {
        throw new Error(`expected one ${type} with ${key} = ${String(value)}, found ${found.length}`);
      }
      return found[0]!;
    },
  };
}

/** The value of an output (the program never runs in preview mode here, so every value is known). */
export function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((value) => resolve(value as T)));
}

export async function resolveOutputs(outputs: object): Promise<Record<string, unknown>> {
  const resolved: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(outputs))
    resolved[key] = await valueOf(value as pulumi.Input<unknown>);
  return resolved;
}

/** Waits until no resource has been registered for a while: policies and alarms resolve after the outputs. */
export async function settled(count: () => number): Promise<void> {
  let last = -1;
  let quiet = 0;
  while (quiet < 25) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    const now = count();
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
}

let serial = 0;

/** What AWS would compute for a resource: ids and ARNs shaped like the real ones. */
function computed(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  region: string,
): { id: string; state: Record<string, unknown> } {
  serial += 1;
  const suffix = `${serial.toString(36).padStart(7, "0")}`;
  const physical = typeof inputs.name === "string" ? inputs.name : `${name}-${suffix}`;
  const account = ACCOUNT_ID;
  switch (type) {
    case "aws:cognito/userPool:UserPool": {
      const id = `${region}_Pool${suffix}`;
      return { id, state: { ...inputs, arn: `arn:aws:cognito-idp:${region}:${account}:userpool/${id}` } };
    }
    case "aws:cognito/userPoolClient:UserPoolClient":
      return { id: `client${suffix}`, state: inputs };
    case "aws:s3/bucket:Bucket": {
      const bucket = `${name}-${suffix}`;
      return { id: bucket, state: { ...inputs, bucket, arn: `arn:aws:s3:::${bucket}` } };
    }
    case "aws:kms/key:Key": {
      const keyId = `0000${suffix}-1111-2222-3333-444455556666`;
      return { id: keyId, state: { ...inputs, keyId, arn: `arn:aws:kms:${region}:${account}:key/${keyId}` } };
    }
    case "aws:dynamodb/table:Table":
      return {
        id: physical,
        state: { ...inputs, name: physical, arn: `arn:aws:dynamodb:${region}:${account}:table/${physical}` },
      };
    case "aws:lambda/function:Function":
      return {
        id: physical,
        state: { ...inputs, name: physical, arn: `arn:aws:lambda:${region}:${account}:function:${physical}` },
      };
    case "aws:sfn/stateMachine:StateMachine":
      return {
        id: `arn:aws:states:${region}:${account}:stateMachine:${physical}`,
        state: {
          ...inputs,
          name: physical,
          arn: `arn:aws:states:${region}:${account}:stateMachine:${physical}`,
        },
      };
    case "aws:iam/role:Role":
      return {
        id: physical,
        state: { ...inputs, name: physical, arn: `arn:aws:iam::${account}:role/${physical}` },
      };
    case "aws:cloudwatch/logGroup:LogGroup":
      return {
        id: physical,
        state: { ...inputs, name: physical, arn: `arn:aws:logs:${region}:${account}:log-group:${physical}` },
      };
    case "aws:secretsmanager/secret:Secret": {
      // Secrets Manager appends `-` and six random characters to the name.
      const arn = `arn:aws:secretsmanager:${region}:${account}:secret:${physical}-Zx${suffix.slice(-4)}`;
      return { id: arn, state: { ...inputs, name: physical, arn } };
    }
    case "aws:sqs/queue:Queue":
      return {
        id: `https://sqs.${region}.amazonaws.com/${account}/${physical}`,
        state: { ...inputs, name: physical, arn: `arn:aws:sqs:${region}:${account}:${physical}` },
      };
    case "aws:sns/topic:Topic":
      return { id: physical, state: { ...inputs, arn: `arn:aws:sns:${region}:${account}:${physical}` } };
    case "aws:ec2/securityGroup:SecurityGroup":
      return {
        id: `sg-${suffix}`,
        state: { ...inputs, arn: `arn:aws:ec2:${region}:${account}:security-group/sg-${suffix}` },
      };
    case "aws:rds/instance:Instance":
      return {
        id: physical,
        state: {
          ...inputs,
          address: `${physical}.c0ffee.${region}.rds.amazonaws.com`,
          arn: `arn:aws:rds:${region}:${account}:db:${physical}`,
          masterUserSecrets: [
            {
              secretArn: `arn:aws:secretsmanager:${region}:${account}:secret:rds!db-${suffix}-aBcD12`,
              secretStatus: "active",
              kmsKeyId: `arn:aws:kms:${region}:${account}:key/aws-secretsmanager`,
            },
          ],
        },
      };
    case "awsx:ec2:Vpc":
      return {
        id: `vpc-${suffix}`,
        state: {
          vpcId: `vpc-${suffix}`,
          isolatedSubnetIds: [`subnet-${suffix}a`, `subnet-${suffix}b`],
          privateSubnetIds: [],
          publicSubnetIds: [],
        },
      };
    default:
      return {
        id: `${name}-${suffix}`,
        state: { ...inputs, name: physical, arn: `arn:aws:mock:${region}:${account}:${name}-${suffix}` },
      };
  }
}
