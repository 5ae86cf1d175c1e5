/**
 * Cognito's request-rate quotas, and the categories this system's calls count against.
 *
 * The quotas are per account and Region, across every user pool, and shared by every caller: two jobs
 * listing at once share one UserList quota. Source: "Quotas in Amazon Cognito", API operation categories
 * and request rate quotas (https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html):
 * UserList 30, UserUpdate 25, UserRead 120, UserCreation 50, UserPoolRead 15 requests per second, none of
 * the first two adjustable; operations of the UserPoolResourceRead/Update categories (groups, import jobs)
 * are further held to 5 per second per user pool and operation.
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
/** A lane of the client-side pacing: one per quota category (and one per import-job operation). */
export type CognitoQuotaCategory = (typeof COGNITO_OPERATION_CATEGORY)[CognitoOperation];

/**
 * Requests per second Cognito allows per category, account-wide (see the source above). A caller paces
 * itself up to these and no further; sharing them with the other callers is the pacing's job (it slows
 * down when Cognito throttles). ListGroups and CreateGroup are taken to be pool-resource operations, held
 * to 5 per second per pool (the guide names each category's operations only on its website): the lower
 * figure, so a wrong guess costs speed, not throttling.
 */
export const COGNITO_QUOTAS: Readonly<Record<CognitoQuotaCategory, number>> = {
  UserList: 30,
  UserRead: 120,
  UserUpdate: 25,
  UserCreation: 50,
  UserPoolRead: 15,
  GroupRead: 5,
  GroupWrite: 5,
  GetCSVHeader: 5,
  CreateUserImportJob: 5,
  StartUserImportJob: 5,
  DescribeUserImportJob: 5,
};
