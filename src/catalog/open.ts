/**
 * Builds the policy, catalog and access services together (each depends on the one before).
 * `datasets` is ingestion's DatasetsService; until it is wired, no dataset exists.
 */
import type { DocumentStore } from "../store/port.ts";
import type { AuditTrail } from "../audit/recorder.ts";
import { NO_DATASETS, type DatasetCatalogSource } from "../privacy/policy/dataset-source.ts";
import { PrivacyPolicyService } from "../privacy/policy/service.ts";
import { AccessService } from "../access/service.ts";
import { CatalogService } from "./service.ts";

export interface CatalogServices {
  policies: PrivacyPolicyService;
  catalog: CatalogService;
  access: AccessService;
}

export async function openCatalogServices(
  store: DocumentStore,
  deps: { audit: AuditTrail; datasets?: DatasetCatalogSource; platformFeeBasisPoints?: number; now?: () => Date },
): Promise<CatalogServices> {
  const datasets = deps.datasets ?? NO_DATASETS;
  const policies = await PrivacyPolicyService.open(store, { datasets, audit: deps.audit, now: deps.now });
  const catalog = await CatalogService.open(store, {
    datasets,
    policies,
    audit: deps.audit,
    now: deps.now,
    platformFeeBasisPoints: deps.platformFeeBasisPoints,
  });
  policies.setVersionsInUse(async (datasetId) => [...new Set((await catalog.publishedListingsOf(datasetId)).map((l) => l.datasetVersion))]);
  const access = await AccessService.open(store, { catalog, audit: deps.audit, now: deps.now });
  return { policies, catalog, access };
}
