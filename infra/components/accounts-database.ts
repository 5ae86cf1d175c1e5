import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import type { AwsContext } from "../context.js";
import { statefulOptions } from "../stateful.js";

export interface AccountsDatabaseArgs {
  /** Default `db.t4g.micro`. */
  readonly instanceClass?: string;
  /** MySQL version; default `8.4`. */
  readonly engineVersion?: string;
  /** RDS Extended Support enrollment at creation; default disabled. */
  readonly engineLifecycleSupport?: string;
  /** GB; default 20. */
  readonly allocatedStorageGb?: number;
  /** The application's database; default `app`. */
  readonly databaseName?: string;
  /** Days of automated backups; default 7. */
  readonly backupRetentionDays?: number;
  /** Default false. */
  readonly multiAz?: boolean;
  /** Deletion protection; on by default, and then a final snapshot is taken on deletion. */
  readonly deletionProtection?: boolean;
  /** The VPC's address range; default `10.40.0.0/16`. */
  readonly vpcCidr?: string;
  /** Availability zones (one isolated subnet each); default 2. */
  readonly availabilityZones?: number;
  /** Pulumi's `protect` and `retainOnDelete` on the database (see infra/stateful.ts); default true. */
  readonly protect?: boolean;
  readonly context: AwsContext;
}

/** The port MySQL listens on. */
export const MYSQL_PORT = 3306;

/**
 * The application's MySQL database in a VPC of its own with isolated subnets (no internet route, no NAT):
 * encrypted, never public, TLS required, its master password generated and rotated by RDS in Secrets
 * Manager. The accounts purge runs in the same subnets with a security group that is the only source the
 * database accepts on 3306, and reaches Secrets Manager through an interface endpoint that accepts only that
 * group on 443 and serves only the database's secret.
 */
export class AccountsDatabase extends pulumi.ComponentResource {
  readonly instance: aws.rds.Instance;
  readonly vpcId: pulumi.Output<string>;
  readonly subnetIds: pulumi.Output<string[]>;
  /** The accounts purge function's security group. */
  readonly functionSecurityGroup: aws.ec2.SecurityGroup;
  readonly databaseSecurityGroup: aws.ec2.SecurityGroup;
  readonly endpointSecurityGroup: aws.ec2.SecurityGroup;
  /** The full ARN of the master user secret, as RDS reports it. */
  readonly secretArn: pulumi.Output<string>;
  /**
   * The accounts purge's own login secret, created without a value: the setup function generates the
   * password into it, so it never passes through Pulumi.
   */
  readonly purgeLoginSecret: aws.secretsmanager.Secret;
  readonly databaseName: string;
  /** The Secrets Manager interface endpoint the functions in the VPC read and write the secrets through. */
  readonly endpoint: aws.ec2.VpcEndpoint;

  constructor(name: string, args: AccountsDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cognito-user-lifecycle:accounts:AccountsDatabase", name, {}, opts);
    const deletionProtection = args.deletionProtection ?? true;
    const engineVersion = args.engineVersion ?? "8.4";
    this.databaseName = args.databaseName ?? "app";

    const vpc = new awsx.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: args.vpcCidr ?? "10.40.0.0/16",
        numberOfAvailabilityZones: args.availabilityZones ?? 2,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        natGateways: { strategy: awsx.ec2.NatGatewayStrategy.None },
        subnetStrategy: awsx.ec2.SubnetAllocationStrategy.Auto,
        subnetSpecs: [{ type: awsx.ec2.SubnetType.Isolated, name: "isolated" }],
      },
      { parent: this },
    );
    this.vpcId = vpc.vpcId;
    this.subnetIds = vpc.isolatedSubnetIds;

    const group = (suffix: string, description: string) =>
      new aws.ec2.SecurityGroup(
        `${name}-${suffix}`,
        // No inline rules: the provider then removes the default allow-all egress, and every rule below is
        // a separate resource naming its peer group.
        { vpcId: this.vpcId, description },
        { parent: this },
      );
    this.functionSecurityGroup = group("function-sg", "The accounts purge function");
    this.databaseSecurityGroup = group("database-sg", "The accounts database: MySQL from the purge function");
    this.endpointSecurityGroup = group(
      "endpoint-sg",
      "Secrets Manager endpoint: HTTPS from the purge function",
    );

    const rule = (
      suffix: string,
      kind: "ingress" | "egress",
      securityGroupId: pulumi.Input<string>,
      peer: pulumi.Input<string>,
      port: number,
      description: string,
    ) => {
      const common = {
        securityGroupId,
        referencedSecurityGroupId: peer,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        description,
      };
      return kind === "ingress"
        ? new aws.vpc.SecurityGroupIngressRule(`${name}-${suffix}`, common, { parent: this })
        : new aws.vpc.SecurityGroupEgressRule(`${name}-${suffix}`, common, { parent: this });
    };
    const fn = this.functionSecurityGroup.id;
    rule(
      "db-from-function",
      "ingress",
      this.databaseSecurityGroup.id,
      fn,
      MYSQL_PORT,
      "MySQL from the purge",
    );
    rule("function-to-db", "egress", fn, this.databaseSecurityGroup.id, MYSQL_PORT, "MySQL to the database");
    rule("endpoint-from-function", "ingress", this.endpointSecurityGroup.id, fn, 443, "HTTPS from the purge");
    rule(
      "function-to-endpoint",
      "egress",
      fn,
      this.endpointSecurityGroup.id,
      443,
      "HTTPS to Secrets Manager",
    );

    const subnetGroup = new aws.rds.SubnetGroup(
      `${name}-subnets`,
      { subnetIds: this.subnetIds, description: "Isolated subnets of the accounts database" },
      { parent: this },
    );
    const family = `mysql${engineVersion.split(".").slice(0, 2).join(".")}`;
    const parameters = new aws.rds.ParameterGroup(
      `${name}-parameters`,
      {
        family,
        description: "TLS required",
        parameters: [{ name: "require_secure_transport", value: "1" }],
      },
      { parent: this },
    );

    this.instance = new aws.rds.Instance(
      `${name}-mysql`,
      {
        engine: "mysql",
        engineVersion,
        // A major version upgrade (8.0 to 8.4) is a change of engineVersion here, with the parameter group of
        // the new family in the same modification: the group below is auto-named, so Pulumi creates the new
        // family's group first, moves the instance to it, and only then deletes the old one.
        allowMajorVersionUpgrade: true,
        engineLifecycleSupport: args.engineLifecycleSupport ?? "open-source-rds-extended-support-disabled",
        instanceClass: args.instanceClass ?? "db.t4g.micro",
        allocatedStorage: args.allocatedStorageGb ?? 20,
        storageType: "gp3",
        storageEncrypted: true,
        publiclyAccessible: false,
        dbName: this.databaseName,
        username: "lifecycle_admin",
        manageMasterUserPassword: true,
        dbSubnetGroupName: subnetGroup.name,
        vpcSecurityGroupIds: [this.databaseSecurityGroup.id],
        parameterGroupName: parameters.name,
        port: MYSQL_PORT,
        multiAz: args.multiAz ?? false,
        backupRetentionPeriod: args.backupRetentionDays ?? 7,
        deletionProtection,
        skipFinalSnapshot: !deletionProtection,
        ...(deletionProtection
          ? { finalSnapshotIdentifier: pulumi.interpolate`${pulumi.getProject()}-${pulumi.getStack()}-final` }
          : {}),
        copyTagsToSnapshot: true,
        autoMinorVersionUpgrade: true,
        caCertIdentifier: "rds-ca-rsa2048-g1",
      },
      {
        ...statefulOptions(args.protect ?? true, this),
        // RDS takes the Extended Support enrollment only when it creates (or restores) the instance: an
        // existing database keeps the one it has rather than being replaced.
        ignoreChanges: ["engineLifecycleSupport"],
      },
    );

    // The full ARN RDS reports, random suffix included: an ARN typed by hand or trimmed would grant a
    // neighbour, or nothing.
    this.secretArn = this.instance.masterUserSecrets.apply((secrets) => {
      const arn = secrets?.[0]?.secretArn;
      if (!arn) throw new Error("RDS reported no master user secret: manageMasterUserPassword must be on");
      return arn;
    });

    this.purgeLoginSecret = new aws.secretsmanager.Secret(
      `${name}-purge-login`,
      {
        description: "The accounts purge's database login (SELECT and DELETE on the accounts table)",
        recoveryWindowInDays: 7,
      },
      { parent: this },
    );

    this.endpoint = new aws.ec2.VpcEndpoint(
      `${name}-secrets-endpoint`,
      {
        vpcId: this.vpcId,
        serviceName: pulumi.interpolate`com.amazonaws.${args.context.region}.secretsmanager`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: this.subnetIds,
        securityGroupIds: [this.endpointSecurityGroup.id],
        // Defence in depth: through this endpoint, only the database's two secrets can be read, and only the
        // purge login's written (its first value, by the setup), by this account.
        policy: pulumi
          .all([this.secretArn, this.purgeLoginSecret.arn, args.context.accountId])
          .apply(([secretArn, loginArn, accountId]) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Sid: "ReadTheDatabaseSecretsOnly",
                  Effect: "Allow",
                  Principal: "*",
                  Action: ["secretsmanager:GetSecretValue"],
                  Resource: [secretArn, loginArn],
                  Condition: { StringEquals: { "aws:PrincipalAccount": accountId } },
                },
                {
                  Sid: "WriteThePurgeLoginOnly",
                  Effect: "Allow",
                  Principal: "*",
                  Action: ["secretsmanager:PutSecretValue"],
                  Resource: [loginArn],
                  Condition: { StringEquals: { "aws:PrincipalAccount": accountId } },
                },
              ],
            }),
          ),
      },
      { parent: this },
    );

    this.registerOutputs({
      vpcId: this.vpcId,
      address: this.instance.address,
      secretArn: this.secretArn,
    });
  }
}
