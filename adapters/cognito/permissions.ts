/**
 * The IAM actions each method of the Cognito adapters calls, declared once next to them. Plain data with no
 * imports beyond types: the Pulumi program builds each function's least-privilege policy from these lists,
 * and its tests prove the policies allow exactly them.
 */
import type { UserDirectory } from "../../core/ports/user-directory.js";
import type { UserImportService } from "../../core/ports/user-import.js";

/** The Cognito actions each use of the directory needs, for least-privilege policies built next to it. */
export const COGNITO_DIRECTORY_ACTIONS = {
  listUsers: ["cognito-idp:ListUsers"],
  estimatedUserCount: ["cognito-idp:DescribeUserPool"],
  getUser: ["cognito-idp:AdminGetUser", "cognito-idp:AdminListGroupsForUser"],
  deleteUser: ["cognito-idp:AdminDeleteUser"],
  disableUser: ["cognito-idp:AdminDisableUser"],
  enableUser: ["cognito-idp:AdminEnableUser"],
  createUser: ["cognito-idp:AdminCreateUser"],
  listGroups: ["cognito-idp:ListGroups"],
  listGroupMembers: ["cognito-idp:ListUsersInGroup"],
  createGroup: ["cognito-idp:CreateGroup"],
  addUserToGroup: ["cognito-idp:AdminAddUserToGroup"],
} as const satisfies Record<keyof UserDirectory, readonly string[]>;

/**
 * What a trigger's read of the user it runs for needs: `getUser` without `includeGroups` is AdminGetUser alone
 * (the groups' AdminListGroupsForUser is never called, so never granted).
 */
export const COGNITO_TRIGGERING_POOL_ACTIONS = {
  getUser: ["cognito-idp:AdminGetUser"],
} as const satisfies Partial<Record<keyof UserDirectory, readonly string[]>>;

/** The actions each use of the importer needs, for least-privilege policies built next to it. */
export const COGNITO_IMPORT_ACTIONS = {
  getCsvHeader: ["cognito-idp:GetCSVHeader"],
  createImportJob: ["cognito-idp:CreateUserImportJob"],
  /** The upload reads the job's pre-signed URL; the PUT itself is authorised by the URL's signature. */
  uploadCsv: ["cognito-idp:DescribeUserImportJob"],
  startImportJob: ["cognito-idp:StartUserImportJob"],
  describeImportJob: ["cognito-idp:DescribeUserImportJob"],
  /** Granted on the CloudWatch Logs role given to CreateUserImportJob (that role's ARN), not on the pool. */
  passLogsRole: ["iam:PassRole"],
} as const satisfies Record<keyof UserImportService | "passLogsRole", readonly string[]>;
