/** The public face of src/catalog: other modules import from here only. */
export { canSee } from "./service.ts";

export { CatalogService } from "./service.ts";
export type { BoundsAtPublish, PublishBounds } from "./model.ts";
import type { CatalogService as CatalogServiceType } from "./service.ts";

declare module "../graphql/context.ts" {
  interface ExchangeServices {
    catalog: CatalogServiceType;
  }
}
