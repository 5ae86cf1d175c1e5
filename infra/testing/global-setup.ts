/**
 * The infra tests run the program as `pulumi up` would after `npm run build`: the handler bundles must exist
 * where the program references them (Pulumi reads a FileArchive only when deploying, never under mocks).
 */
import { buildHandlers } from "../../scripts/build.js";

export default async function setup(): Promise<void> {
  await buildHandlers();
}
