/** Progress by counting what the adapters do: the same ports, each call also counted on the progress line. */
import type { AccountStore } from "../core/ports/account-store.js";
import type { BackupStore } from "../core/ports/backup-store.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import { overriding } from "./connection.js";
import type { Progress } from "./io.js";

export function watchedDirectory(directory: UserDirectory, progress: Progress): UserDirectory {
  return overriding(directory, {
    listUsers: async (query) => {
      const page = await directory.listUsers(query);
      progress.add("users read", page.items.length);
      return page;
    },
    deleteUser: async (username) => {
      const deleted = await directory.deleteUser(username);
      if (deleted) progress.add("deleted");
      return deleted;
    },
    createUser: async (user) => {
      const created = await directory.createUser(user);
      progress.add("created");
      return created;
    },
  });
}

export function watchedBackups(backups: BackupStore, progress: Progress): BackupStore {
  return overriding(backups, {
    putSnapshotPart: async (snapshotId, part) => {
      await backups.putSnapshotPart(snapshotId, part);
      progress.add("parts written");
    },
    putSnapshotFile: async (snapshotId, name, text) => {
      await backups.putSnapshotFile(snapshotId, name, text);
      progress.add("files written");
    },
    putUserBackup: async (record) => {
      const outcome = await backups.putUserBackup(record);
      if (outcome === "written") progress.add("backups written");
      return outcome;
    },
    getSnapshotPart: async (snapshotId, name) => {
      const text = await backups.getSnapshotPart(snapshotId, name);
      progress.add("parts read");
      return text;
    },
  });
}

export function watchedAccounts(accounts: AccountStore, progress: Progress): AccountStore {
  return overriding(accounts, {
    deleteExpiredUnconfirmed: async (cutoff, limit, keys) => {
      const deleted = await accounts.deleteExpiredUnconfirmed(cutoff, limit, keys);
      progress.add("rows deleted", deleted);
      return deleted;
    },
  });
}
