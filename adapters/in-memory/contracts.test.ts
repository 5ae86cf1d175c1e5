import { describeAccountStoreContract } from "../../core/ports/account-store.contract.js";
import { describeApplicationAccountsContract } from "../../core/ports/application-accounts.contract.js";
import { describeBackupStoreContract } from "../../core/ports/backup-store.contract.js";
import { describeErasureLedgerContract } from "../../core/ports/erasure-ledger.contract.js";
import { describeRestoreStateStoreContract } from "../../core/ports/restore-state-store.contract.js";
import { describeProfileStoreContract } from "../../core/ports/profile-store.contract.js";
import { describeUserDirectoryContract } from "../../core/ports/user-directory.contract.js";
import { describeUserImportContract } from "../../core/ports/user-import.contract.js";
import { InMemoryAccountStore } from "./account-store.js";
import { InMemoryBackupStore } from "./backup-store.js";
import { InMemoryErasureLedger } from "./erasure-ledger.js";
import { ManualClock } from "./clock.js";
import { InMemoryProfileStore } from "./profile-store.js";
import { InMemoryUserDirectory } from "./user-directory.js";

describeUserDirectoryContract("in-memory", async () => {
  const directory = new InMemoryUserDirectory();
  return { directory, seed: async (users) => void directory.seed(...users) };
});

describeProfileStoreContract("in-memory", async () => new InMemoryProfileStore());

describeBackupStoreContract("in-memory", async () => {
  const store = new InMemoryBackupStore();
  return {
    store,
    plantMalformed: async (userId, text) => store.putRaw(InMemoryBackupStore.userKey(userId), text),
  };
});

describeRestoreStateStoreContract("in-memory", async () => {
  const store = new InMemoryBackupStore();
  return {
    store,
    plantMalformedRestoreProgress: async (planId) =>
      store.putRaw(
        InMemoryBackupStore.restoreProgressKey(planId),
        '{"format":"cognito-user-lifecycle/restore-progress"',
      ),
  };
});

describeAccountStoreContract("in-memory", async () => {
  const store = new InMemoryAccountStore();
  return {
    store,
    insert: async (rows) => rows.map((row) => store.insert({ ...row }).id),
    confirm: async (id, at) => store.confirm(id, at),
    remainingEmails: async () =>
      store
        .all()
        .map((row) => row.email)
        .sort(),
    beforeNextDelete: (hook) => {
      store.beforeDelete = () => {
        store.beforeDelete = undefined;
        // The in-memory store is synchronous: run the hook's effect right away.
        void hook();
      };
    },
  };
});

describeApplicationAccountsContract("in-memory", async () => {
  const store = new InMemoryAccountStore();
  return {
    accounts: store,
    holdsCaseVariants: true,
    insert: async (emails) => {
      for (const email of emails) store.insert({ email, confirmedAt: null, confirmationSentAt: null });
    },
    remainingEmails: async () =>
      store
        .all()
        .map((row) => row.email)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
  };
});

describeUserImportContract("in-memory", async () => {
  const clock = new ManualClock();
  const directory = new InMemoryUserDirectory({ clock });
  return { importer: directory, directory, sleep: (ms) => clock.sleep(ms) };
});

describeErasureLedgerContract("in-memory", async () => ({ ledger: new InMemoryErasureLedger() }));
