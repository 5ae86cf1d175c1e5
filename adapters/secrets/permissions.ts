/**
 * The IAM actions of the Secrets Manager adapter, declared once next to it (plain data: the Pulumi program
 * builds least-privilege policies from it).
 */

/** The Secrets Manager action reading the secret needs (plus kms:Decrypt when it uses a customer key). */
export const SECRETS_DATABASE_CREDENTIALS_ACTIONS = ["secretsmanager:GetSecretValue"] as const;

/** Reading a login's own secret, and writing its first value (SecretsManagerLoginSecret). */
export const SECRETS_LOGIN_SECRET_ACTIONS = [
  "secretsmanager:GetSecretValue",
  "secretsmanager:PutSecretValue",
] as const;
