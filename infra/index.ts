/**
 * The Pulumi program's entry point (Pulumi.yaml: `main: infra/`). It declares no resources yet: the
 * components (identity, backups, profiles, accounts database, functions, schedules, alarms) are wired here,
 * with `infra/config.ts` as the only reader of stack configuration.
 */
export {};
