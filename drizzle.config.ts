import { defineConfig } from "drizzle-kit";

/** drizzle-kit reads this to generate the accounts migration: `npx drizzle-kit generate` (offline). */
export default defineConfig({
  dialect: "mysql",
  schema: "./adapters/mysql/schema.ts",
  out: "./adapters/mysql/migrations",
});
