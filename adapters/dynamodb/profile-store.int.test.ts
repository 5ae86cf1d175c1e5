import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, describe, expect, inject, it } from "vitest";
import { describeProfileStoreContract } from "../../core/ports/profile-store.contract.js";
import { freePort } from "../../local/services/process.js";
import { DynamoProfileStore } from "./profile-store.js";

const client = new DynamoDBClient({
  endpoint: inject("dynamodbEndpoint"),
  region: "us-east-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
});
const documents = DynamoDBDocumentClient.from(client);
afterAll(() => client.destroy());

let tables = 0;
/** A fresh table shaped like the deployed one: key `id` (string), on-demand. */
async function aTable(): Promise<string> {
  tables += 1;
  const name = `profiles-${process.pid}-${tables}`;
  await client.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  // Creation is asynchronous, in dynalite as in DynamoDB: wait until the table is ACTIVE.
  for (let look = 0; look < 200; look++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === "ACTIVE") return name;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`table ${name} did not become ACTIVE`);
}

describeProfileStoreContract(
  "DynamoDB (dynalite)",
  async () => new DynamoProfileStore(documents, await aTable()),
);

describe("DynamoProfileStore", () => {
  it("names the bad field of a malformed item instead of returning half a profile", async () => {
    const table = await aTable();
    await documents.send(
      new PutCommand({ TableName: table, Item: { id: "x", username: "u", createdAt: "yesterday" } }),
    );
    await expect(new DynamoProfileStore(documents, table).get("x")).rejects.toMatchObject({
      code: "PROFILE.MALFORMED",
      details: { field: "createdAt" },
    });
  });
});

describe("DynamoProfileStore faults", () => {
  it("gives one SERVICE.UNREACHABLE error when DynamoDB cannot be reached", async () => {
    const port = await freePort();
    const unreachable = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 1,
    });
    const store = new DynamoProfileStore(DynamoDBDocumentClient.from(unreachable), "profiles");
    try {
      for (const attempt of [
        () => store.get("someone"),
        () => store.createIfAbsent({ id: "someone", username: "someone", createdAt: new Date() }),
        () => store.getMany(["someone"]),
        () => store.delete("someone"),
      ]) {
        await expect(attempt()).rejects.toMatchObject({
          code: "SERVICE.UNREACHABLE",
          message: expect.stringMatching(/^DynamoDB could not be reached \(ECONNREFUSED\)/),
        });
      }
    } finally {
      unreachable.destroy();
    }
  });
});
