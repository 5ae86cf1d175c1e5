import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

/** Where the stack deploys: the pieces of the ARNs the program builds itself. */
export interface AwsContext {
  readonly partition: pulumi.Output<string>;
  readonly region: pulumi.Output<string>;
  readonly accountId: pulumi.Output<string>;
}

/** Looks the context up once, from the provider's credentials and region. */
export function lookupAwsContext(): AwsContext {
  return {
    partition: aws.getPartitionOutput().partition,
    region: aws.getRegionOutput().region,
    accountId: aws.getCallerIdentityOutput().accountId,
  };
}
