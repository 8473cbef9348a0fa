/** The public face of src/audit: other modules import from here only. */

export { openAuditLog } from "./open.ts";
export { AuditLog } from "./service.ts";
export { tradeTotals } from "./reports.ts";
import type { AuditLog as AuditLogType } from "./service.ts";

declare module "../graphql/context.ts" {
  interface ExchangeServices {
    audit: AuditLogType;
  }
}
