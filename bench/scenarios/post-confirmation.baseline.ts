/**
 * The baseline Post Confirmation handler of scenario 4: the source documents' way, written anew — the
 * profile put into DynamoDB, then the event stored in S3 as `cognito_user_<userName>`, one after the other,
 * with the SDK clients' defaults. (The endpoints of the local stand-ins come from the environment.)
 * Bundled by esbuild with the SDK external, like the project's handlers.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";

const documents = DynamoDBDocumentClient.from(
  new DynamoDBClient({ endpoint: process.env.DYNAMODB_ENDPOINT }),
);
const s3 = new S3Client({ endpoint: process.env.S3_ENDPOINT, forcePathStyle: true });

interface ConfirmationEvent {
  readonly userName: string;
  readonly request: { readonly userAttributes: Readonly<Record<string, string>> };
}

export async function handler(event: ConfirmationEvent): Promise<ConfirmationEvent> {
  await documents.send(
    new PutCommand({
      TableName: process.env.PROFILE_TABLE,
      Item: { id: event.userName, email: event.request.userAttributes.email },
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: process.env.BACKUP_BUCKET,
      Key: `cognito_user_${event.userName}`,
      Body: JSON.stringify(event),
    }),
  );
  return event;
}
