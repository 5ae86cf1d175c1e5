/**
 * The policy pack: `pulumi preview --policy-pack policy` (or `pulumi up --policy-pack policy`) runs every
 * policy of policies.ts over the stack, and a violation stops the preview. policies.test.ts runs the same
 * policies over every resource the program creates under mocks, for each stack file.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies.js";

new PolicyPack("cognito-user-lifecycle", { policies: POLICIES, enforcementLevel: "mandatory" });
