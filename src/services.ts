/** The domain services of one running exchange, built over one document store and one blob store. */
import type { Config } from "./config.ts";
import type { BlobStore, DocumentStore } from "./store/port.ts";
import { AccountsService } from "./accounts/service.ts";
import { openAuditLog } from "./audit/open.ts";
import type { Logger } from "./logger.ts";
import type { AuditLog } from "./audit/service.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { DatasetsService } from "./datasets/service.ts";
import { openCatalogServices, type CatalogServices } from "./catalog/open.ts";
import { PrivacyBudgetService } from "./privacy/budget/service.ts";
import { policyBudgetDirectory } from "./privacy/budget/directory.ts";
import { BillingService } from "./billing/service.ts";
import { DEFAULT_BILLING_CONFIG } from "./billing/config.ts";
import { listingPricesFrom } from "./billing/listing-prices.ts";
import { QueryService } from "./queries/service.ts";
import { ColumnLoader } from "./queries/columns.ts";
import { Sandbox } from "../sandbox/index.ts";
import { AnalysisService } from "./analysis/service.ts";
import { AnalysisRunService } from "./analysis/runner.ts";
import { DEFAULT_DEADLINE } from "./analysis/deadline.ts";

export interface Services {
  store: DocumentStore;
  blobs: BlobStore;
  accounts: AccountsService;
  /** The signed Merkle audit log; every service records into it (AuditRecorder). */
  audit: AuditLog;
  metrics: Metrics;
  /** Datasets, versions and uploads: files converted into columnar chunks (src/datasets). */
  datasets: DatasetsService;
  /** Privacy policies, listings and access requests (src/privacy/policy, src/catalog, src/access). */
  policies: CatalogServices["policies"];
  catalog: CatalogServices["catalog"];
  access: CatalogServices["access"];
  /** The privacy budget ledger and released-answer cache (src/privacy/budget). */
  privacyBudget: PrivacyBudgetService;
  /** Pricing, metering, the ledger, holds around queries, top-ups, payouts, Stripe (src/billing). */
  billing: BillingService;
  /** Quotes and runs aggregate queries in the sandbox (src/queries, sandbox/). */
  queries: QueryService;
  /** Owner-approved analysis code: submissions, reviews (src/analysis). */
  analyses: AnalysisService;
  /** Quotes and runs approved analyses per privacy unit in the sandbox (src/analysis). */
  analysisRuns: AnalysisRunService;
  /** Stops the sandbox worker processes (if any were started). */
  closeSandbox(): Promise<void>;
}

export async function createServices(
  store: DocumentStore,
  blobs: BlobStore,
  config: Pick<Config, "sessionTtlMs" | "dataDir" | "audit"> & Partial<Pick<Config, "billing" | "env" | "uploadMaxBytes" | "analysisRelease">>,
  log?: Logger,
): Promise<Services> {
  // The audit log opens first: the other services take it as a dependency.
  const audit = await openAuditLog(store, config, log);
  const datasets = await DatasetsService.open(store, blobs, {
    audit,
    dataDir: config.dataDir,
    uploadMaxBytes: config.uploadMaxBytes ?? 5 * 1024 ** 3,
    ...(log ? { log } : {}),
  });
  const services = {
    store,
    blobs,
    metrics: createMetrics(),
    audit,
    accounts: await AccountsService.open(store, { sessionTtlMs: config.sessionTtlMs, audit }),
    datasets,
    ...(await openCatalogServices(store, { audit, datasets })),
    privacyBudget: await PrivacyBudgetService.open(store, { audit }),
    billing: await BillingService.open(store, { audit, config: config.billing ?? DEFAULT_BILLING_CONFIG, production: config.env === "production" }),
  } as Services;
  // The sandbox's worker processes start on the first query, not at boot.
  let sandbox: Sandbox | null = null;
  const runDeps = {
    catalog: services.catalog,
    access: services.access,
    datasets,
    budgets: services.privacyBudget,
    billing: services.billing,
    audit,
    metrics: services.metrics,
    sandbox: () => (sandbox ??= new Sandbox({})),
    // Queries and analyses read the same versions: one cache of their columns.
    columns: new ColumnLoader(datasets),
  };
  services.queries = new QueryService(runDeps);
  services.analyses = await AnalysisService.open(store, { catalog: services.catalog, access: services.access, audit });
  services.analysisRuns = new AnalysisRunService({ ...runDeps, analyses: services.analyses, deadline: { ...DEFAULT_DEADLINE, ...config.analysisRelease } });
  services.closeSandbox = async () => {
    await sandbox?.close();
    sandbox = null;
  };
  // The budget reads caps and owners from the policies; policies refuse budgets below what was spent.
  services.privacyBudget.setDirectory(policyBudgetDirectory({ policies: services.policies, catalog: services.catalog }));
  services.policies.setSpentLookup(services.privacyBudget.spentLookup());
  // Finish debits a crash left between their steps (never under-counts spend), then keep sweeping.
  await services.privacyBudget.recover();
  services.privacyBudget.startSweeping();
  // Billing prices subscriptions from the catalog's plans, and finishes or voids transfers a crash left half-done.
  services.billing.useListingPrices(listingPricesFrom(services.catalog));
  await services.billing.recover();
  datasets.startSweeping();
  // Last, once every service has registered its fact checks: record audit events a crash left owed.
  await audit.drift.repair();
  audit.drift.startSweeping();
  return services;
}
