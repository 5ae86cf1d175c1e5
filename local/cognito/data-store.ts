/**
 * cognito-local keeps users, groups and clients in objects keyed by name, and reads them by walking the key
 * path with plain property access: a name such as `constructor` or `toString` then finds the object's inherited
 * property. AdminGetUser of a user named `constructor` that does not exist answered HTTP 200 with an empty user,
 * and a user named `__proto__` "already existed" (Cognito: UserNotFoundException, and both names are valid
 * usernames). This store reads a key path through own properties only.
 *
 * `__proto__` cannot be a key of such an object at all (assigning it replaces the object's prototype), so
 * storing under it is refused, naming the limitation, rather than corrupting the pool's file.
 */
import type { DataStore } from "cognito-local/lib/services/dataStore/dataStore";
import type { DataStoreFactory } from "cognito-local/lib/services/dataStore/factory";
import { cognitoError, type Context } from "./cognito-local.js";

const pathOf = (key: string | string[]) => (Array.isArray(key) ? key : [key]);

/** Whether `path` names own properties all the way down from `root`. */
function ownPath(root: unknown, path: readonly string[]): boolean {
  let node = root;
  for (const segment of path) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, segment)) return false;
    node = (node as Record<string, unknown>)[segment];
  }
  return true;
}

function refuseProto(key: string | string[]): void {
  if (pathOf(key).includes("__proto__")) {
    throw cognitoError(
      "UnsupportedOperationException",
      "The local Cognito cannot store a user, group or client named __proto__",
    );
  }
}

function ownKeysOnly(store: DataStore): DataStore {
  async function get<T>(ctx: Context, key: string | string[], defaultValue?: T): Promise<T | null> {
    if (!ownPath(await store.getRoot(ctx), pathOf(key))) return defaultValue ?? null;
    return defaultValue === undefined ? store.get<T>(ctx, key) : store.get<T>(ctx, key, defaultValue);
  }
  return {
    get: get as DataStore["get"],
    getRoot: (ctx) => store.getRoot(ctx),
    set: async (ctx, key, value) => {
      refuseProto(key);
      await store.set(ctx, key, value);
    },
    delete: async (ctx, key) => {
      if (!ownPath(await store.getRoot(ctx), pathOf(key))) return;
      await store.delete(ctx, key);
    },
  };
}

/** A factory whose stores read key paths through own properties only (see above). */
export function ownKeysDataStoreFactory(inner: DataStoreFactory): DataStoreFactory {
  return { create: async (ctx, id, defaults) => ownKeysOnly(await inner.create(ctx, id, defaults)) };
}
