/** The public face of src/access: other modules import from here only. */
export { AccessService } from "./service.ts";

import type { AccessService as AccessServiceType } from "./service.ts";

declare module "../graphql/context.ts" {
  interface ExchangeServices {
    access: AccessServiceType;
  }
}
