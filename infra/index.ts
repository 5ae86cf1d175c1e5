/**
 * The Pulumi program (Pulumi.yaml: `main: infra/`): validates the stack's configuration, then declares
 * the stack. Its exports are the stack outputs (`pulumi stack output --json`), which the operator CLI reads
 * with `--outputs`.
 */
import { readStackConfig } from "./config.js";
import { lookupAwsContext } from "./context.js";
import { createLifecycleStack } from "./stack.js";

const outputs = createLifecycleStack(readStackConfig(), lookupAwsContext());

export const region = outputs.region;
export const userPoolId = outputs.userPoolId;
export const userPoolArn = outputs.userPoolArn;
export const userPoolClientId = outputs.userPoolClientId;
export const profileTable = outputs.profileTable;
export const backupBucket = outputs.backupBucket;
export const backupKmsKeyId = outputs.backupKmsKeyId;
export const importLogsRoleArn = outputs.importLogsRoleArn;
export const accountsDbSecretArn = outputs.accountsDbSecretArn;
export const accountsDbHost = outputs.accountsDbHost;
export const accountsDbName = outputs.accountsDbName;
export const alarmTopicArn = outputs.alarmTopicArn;
export const functionNames = outputs.functionNames;
export const stateMachineArns = outputs.stateMachineArns;
