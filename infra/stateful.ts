import type * as pulumi from "@pulumi/pulumi";

/**
 * The options of a resource that holds data (the user pool, the profile table, the backup bucket and its
 * key, the database). `protect` makes Pulumi refuse any plan that deletes it, a replacement included, and
 * `retainOnDelete` leaves it in the account should it ever leave the stack (after an unprotect, a rename,
 * a `pulumi destroy`): losing users, profiles or backups always takes a deliberate act outside this program.
 */
export function statefulOptions(protect: boolean, parent: pulumi.Resource): pulumi.CustomResourceOptions {
  return { parent, protect, retainOnDelete: protect };
}
