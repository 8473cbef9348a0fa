/** The domain services of one running exchange, built over one document store and one blob store. */
import type { Config } from "./config.ts";
import type { BlobStore, DocumentStore } from "./store/port.ts";
import { AccountsService } from "./accounts/service.ts";
import { createMetrics, type Metrics } from "./metrics.ts";

export interface Services {
  store: DocumentStore;
  blobs: BlobStore;
  accounts: AccountsService;
  metrics: Metrics;
}

export async function createServices(
  store: DocumentStore,
  blobs: BlobStore,
  config: Pick<Config, "sessionTtlMs">,
): Promise<Services> {
  return {
    store,
    blobs,
    metrics: createMetrics(),
    accounts: await AccountsService.open(store, { sessionTtlMs: config.sessionTtlMs }),
  };
}
