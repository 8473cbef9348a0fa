/** The public face of src/accounts: other modules import from here only. */
export { Unauthenticated } from "./errors.ts";

export { AccountsService } from "./service.ts";
import type { AccountsService as AccountsServiceType } from "./service.ts";

declare module "../graphql/context.ts" {
  interface ExchangeServices {
    accounts: AccountsServiceType;
  }
}
