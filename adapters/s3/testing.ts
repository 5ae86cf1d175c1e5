/** What the S3 adapters' mock tests share: SDK-shaped bodies and errors. Used by tests only. */
import { Readable } from "node:stream";
import { type GetObjectCommandOutput, NoSuchKey, S3ServiceException } from "@aws-sdk/client-s3";

/** A GetObject body holding `text`, as much of the SDK's stream as the adapters read. */
export function textBody(text: string): GetObjectCommandOutput["Body"] {
  const bytes = new TextEncoder().encode(text);
  return Object.assign(Readable.from([bytes]), {
    transformToByteArray: async () => bytes,
  }) as unknown as GetObjectCommandOutput["Body"];
}

export const noSuchKey = () => new NoSuchKey({ message: "no", $metadata: { httpStatusCode: 404 } });

/** S3's answer to a conditional write whose condition did not hold. */
export const preconditionFailed = () =>
  new S3ServiceException({
    name: "PreconditionFailed",
    $fault: "client",
    $metadata: { httpStatusCode: 412 },
    message: "At least one of the pre-conditions you specified did not hold",
  });
