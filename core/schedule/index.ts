export {
  CRON_FIELD_LABELS,
  CRON_FIELDS,
  type CronField,
  checkScheduleExpression,
  parseScheduleExpression,
  type ScheduleExpression,
} from "./schedule-expression.js";
