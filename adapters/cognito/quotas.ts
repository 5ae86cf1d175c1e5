/**
 * Cognito's request-rate quotas as this adapter paces them. The quotas are per account and region, shared by
 * every caller, and not adjustable for these categories; the defaults stay 15–20% under them so a purge or a
 * restore leaves room for sign-ups and the trigger running at the same time.
 */

/** The quota category each Cognito operation the adapters call counts against. */
export const COGNITO_OPERATION_CATEGORY = {
  ListUsers: "UserList",
  ListUsersInGroup: "UserList",
  AdminGetUser: "UserRead",
  AdminListGroupsForUser: "UserRead",
  AdminDeleteUser: "UserUpdate",
  AdminDisableUser: "UserUpdate",
  AdminEnableUser: "UserUpdate",
  AdminAddUserToGroup: "UserUpdate",
  AdminCreateUser: "UserCreation",
  DescribeUserPool: "UserPoolRead",
  ListGroups: "GroupRead",
  CreateGroup: "GroupWrite",
  // Import-job operations are limited per pool and per operation: each has a lane of its own.
  GetCSVHeader: "GetCSVHeader",
  CreateUserImportJob: "CreateUserImportJob",
  StartUserImportJob: "StartUserImportJob",
  DescribeUserImportJob: "DescribeUserImportJob",
} as const;

/** A Cognito operation the adapters call. */
export type CognitoOperation = keyof typeof COGNITO_OPERATION_CATEGORY;
/** A lane of the client-side limiter: one per quota category (and one per import-job operation). */
export type CognitoQuotaCategory = (typeof COGNITO_OPERATION_CATEGORY)[CognitoOperation];

/**
 * Calls per second this process allows itself per category, by default. AWS's quotas: ListUsers and
 * ListUsersInGroup 30, UserUpdate 25, AdminCreateUser 50, AdminGetUser 120, each import-job operation 5;
 * the pool and group categories (DescribeUserPool, ListGroups, CreateGroup) are 15 or more.
 */
export const DEFAULT_COGNITO_RATE_LIMITS: Readonly<Record<CognitoQuotaCategory, number>> = {
  UserList: 25,
  UserRead: 100,
  UserUpdate: 21,
  UserCreation: 42,
  UserPoolRead: 12,
  GroupRead: 12,
  GroupWrite: 12,
  GetCSVHeader: 4,
  CreateUserImportJob: 4,
  StartUserImportJob: 4,
  DescribeUserImportJob: 4,
};
