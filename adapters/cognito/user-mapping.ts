import type { AttributeType, GroupType } from "@aws-sdk/client-cognito-identity-provider";
import { LifecycleError } from "../../core/errors.js";
import { isUserStatus, type Group, type User } from "../../core/user/user.js";

/** The fields ListUsers' UserType, AdminCreateUser's User and AdminGetUser's output share. */
export interface WireUser {
  readonly Username?: string;
  readonly Attributes?: readonly AttributeType[];
  readonly Enabled?: boolean;
  readonly UserStatus?: string;
  readonly UserCreateDate?: Date;
  readonly UserLastModifiedDate?: Date;
}

/**
 * A user as Cognito sent it. `groups` is empty (UserType has no membership) and `mfaEnabled` is what the
 * caller knows (only AdminGetUser tells). A status this code does not know yet reads as `UNKNOWN`.
 *
 * @throws LifecycleError `USER.INVALID` for a user without username or sub; the message has no values.
 */
export function fromWireUser(wire: WireUser, mfaEnabled = false): User {
  const attributes: Record<string, string> = {};
  for (const { Name, Value } of wire.Attributes ?? []) {
    if (Name !== undefined) attributes[Name] = Value ?? "";
  }
  const sub = Object.hasOwn(attributes, "sub") ? attributes.sub : undefined;
  if (!wire.Username || !sub) {
    throw new LifecycleError("USER.INVALID", "Cognito returned a user without username or sub", {
      details: { missing: wire.Username ? "sub" : "Username" },
    });
  }
  return {
    username: wire.Username,
    sub,
    attributes,
    status: isUserStatus(wire.UserStatus) ? wire.UserStatus : "UNKNOWN",
    enabled: wire.Enabled ?? true,
    mfaEnabled,
    ...(validDate(wire.UserCreateDate) ? { createdAt: wire.UserCreateDate } : {}),
    ...(validDate(wire.UserLastModifiedDate) ? { modifiedAt: wire.UserLastModifiedDate } : {}),
    groups: [],
  };
}

/** The attributes AdminCreateUser may set: every attribute but `sub`, which Cognito assigns. */
export function toCreateAttributes(user: User): AttributeType[] {
  return Object.entries(user.attributes)
    .filter(([name]) => name !== "sub")
    .map(([Name, Value]) => ({ Name, Value }));
}

/** A group as Cognito sent it (GroupType), with the fields needed to recreate it elsewhere. */
export function fromWireGroup(wire: GroupType): Group {
  if (!wire.GroupName) throw new LifecycleError("USER.INVALID", "Cognito returned a group without a name");
  return {
    name: wire.GroupName,
    ...(wire.Description ? { description: wire.Description } : {}),
    ...(wire.Precedence === undefined ? {} : { precedence: wire.Precedence }),
    ...(wire.RoleArn ? { roleArn: wire.RoleArn } : {}),
  };
}

function validDate(value: Date | undefined): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}
