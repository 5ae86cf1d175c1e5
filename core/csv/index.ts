/** Cognito user-import CSV: header checks, escaping, user → row mapping and file splitting. */
export { escapeCsvField, formatCsvRow, parseCsv } from "./escape.js";
export {
  COGNITO_IMPORT_FILE_LIMITS,
  type CsvFileSink,
  collectImportFiles,
  type ImportCsvSummary,
  type ImportFileInfo,
  type ImportFileLimits,
  importHeaderLine,
  type ImportRowEntry,
  writeImportFiles,
  writeImportRows,
} from "./import-files.js";
export {
  type ImportHeader,
  type ImportHeaderOptions,
  MFA_ENABLED_COLUMN,
  type MfaConfiguration,
  parseImportHeader,
  USERNAME_COLUMN,
  VERIFIED_FLAG_COLUMN,
  type VerifiableContact,
} from "./import-header.js";
export {
  MAX_ATTRIBUTE_BYTES,
  MAX_ROW_LENGTH,
  droppedAttributesOf,
  type ImportRow,
  importRowOf,
  type MappedUser,
  mapUserToRow,
  type SkippedRow,
  type SkippedUser,
  type SkipReason,
} from "./map-user.js";
