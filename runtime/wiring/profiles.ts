/** The profile table (`PROFILE_TABLE`). */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoProfileStore } from "../../adapters/dynamodb/profile-store.js";
import type { ProfileStore } from "../../core/ports/profile-store.js";
import type { Container } from "../container.js";

export function profileStore(container: Container): ProfileStore {
  return container.once("profiles", () => {
    const client = new DynamoDBClient(container.clientOptions("DYNAMODB_ENDPOINT", 2_000));
    return new DynamoProfileStore(
      DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
      container.env.text("PROFILE_TABLE"),
    );
  });
}
