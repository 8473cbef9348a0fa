/**
 * The composition root: builds every service of one exchange once, in dependency order, over
 * one document store and one blob store, and registers each thing it starts (sweepers, the
 * sandbox's worker pool) with the lifecycle that stops it. Nothing is wired after construction:
 * every dependency is a constructor argument, so a forgotten one is a type error.
 *
 * Two ports point forward (the budget's read side needs the policy and catalog services, and
 * the policy service needs the catalog's versions in use), so they are handed over as getters
 * of services built a few lines below; calling one before its service exists throws, it never
 * answers permissively.
 */
import type { Config } from "../config.ts";
import type { BlobStore, DocumentStore } from "../store/port.ts";
import type { Logger } from "../logger.ts";
import type { ExchangeServices } from "../graphql/context.ts";
import { createMetrics } from "../metrics.ts";
import { Sandbox } from "../../sandbox/index.ts";
import { openAuditLog, tradeTotals } from "../audit/index.ts";
import { AccountsService } from "../accounts/index.ts";
import { DatasetsService } from "../datasets/index.ts";
import { PrivacyPolicyService } from "../privacy/policy/index.ts";
import { PrivacyBudgetService } from "../privacy/budget/index.ts";
import { CatalogService } from "../catalog/index.ts";
import { AccessService } from "../access/index.ts";
import { BillingService, DEFAULT_BILLING_CONFIG } from "../billing/index.ts";
import { AnalysisService } from "../analysis/index.ts";
import {
  AnalysisRunService,
  ColumnLoader,
  DEFAULT_ANALYSIS_RELEASE,
  DEFAULT_QUERY_RELEASE,
  PolicyProfiler,
  PROFILE_EPSILON_DEFAULT,
  QueryService,
  RecoverySweeper,
  RunPath,
  RunRecords,
  SparkEngine,
  crashHookFrom,
  type ClusterEngineConfig,
} from "../runs/index.ts";
import { SparkConnectClient } from "../../spark-connect/index.ts";
import { budgetDirectory, listingPrices, versionsInUse } from "./ports.ts";
import type { Lifecycle } from "./lifecycle.ts";

/** Every service of a running exchange (the GraphQL context's `services`). */
export type Services = ExchangeServices;

export type ServicesConfig = Pick<Config, "sessionTtlMs" | "dataDir" | "audit" | "platformFeeBasisPoints" | "recovery" | "crashAt"> &
  Partial<Pick<Config, "billing" | "env" | "uploadMaxBytes" | "analysisRelease" | "queryRelease" | "cluster" | "profile">>;

export async function buildServices(
  stores: { store: DocumentStore; blobs: BlobStore },
  config: ServicesConfig,
  lifecycle: Lifecycle,
  log?: Logger,
): Promise<Services> {
  const { store, blobs } = stores;
  const audit = await openAuditLog(store, config, log);
  lifecycle.onClose("audit log", () => audit.close());
  // The stored log must match what it signed before anything appends to it (else it halts, /ready says why).
  await audit.selfCheck();
  const accounts = await AccountsService.open(store, { sessionTtlMs: config.sessionTtlMs, audit });
  const datasets = await DatasetsService.open(store, blobs, {
    audit,
    dataDir: config.dataDir,
    uploadMaxBytes: config.uploadMaxBytes ?? 5 * 1024 ** 3,
    ...(log ? { log } : {}),
  });
  const privacyBudget = await PrivacyBudgetService.open(store, {
    audit,
    directory: budgetDirectory(
      () => policies,
      () => catalog,
    ),
  });
  const policies: PrivacyPolicyService = await PrivacyPolicyService.open(store, {
    datasets,
    audit,
    spent: privacyBudget.spentLookup(),
    versionsInUse: versionsInUse(() => catalog),
  });
  const catalog: CatalogService = await CatalogService.open(store, {
    datasets,
    policies,
    audit,
    platformFeeBasisPoints: config.platformFeeBasisPoints,
    // Bounds left at their defaults are chosen from a DP profile at a listing's first publication (issue #16).
    boundsAtPublish:
      config.profile?.atPublish === false ? null : (ownerId, datasetId, version) => profiler.boundsAtPublish(ownerId, datasetId, version),
  });
  const access = await AccessService.open(store, { catalog, audit });
  const billing = await BillingService.open(store, {
    audit,
    config: config.billing ?? DEFAULT_BILLING_CONFIG,
    production: config.env === "production",
    listingPrices: listingPrices(catalog),
    tradeLog: () => tradeTotals(audit),
  });
  const analyses = await AnalysisService.open(store, { catalog, access, audit });

  // The sandbox's worker processes start on the first run, not at boot; close() stops them.
  let sandbox: Sandbox | null = null;
  lifecycle.onClose("sandbox", async () => {
    const running = sandbox;
    sandbox = null;
    await running?.close();
  });
  const metrics = createMetrics(() => store.flushes);
  const { recovery } = config;
  const runPath = new RunPath({
    runs: await RunRecords.open(store),
    budgets: privacyBudget,
    billing,
    audit,
    durable: () => store.sync(),
    ...(log ? { log } : {}),
    crash: crashHookFrom(config.crashAt),
    leaseMs: recovery.runLeaseMs,
  });
  // Queries and analyses read the same versions: one cache of their columns.
  const columns = new ColumnLoader(datasets);
  const cluster = clusterEngine(config, datasets, columns, lifecycle);
  const runDeps = {
    runPath,
    catalog,
    access,
    datasets,
    budgets: privacyBudget,
    billing,
    audit,
    metrics,
    sandbox: () => {
      lifecycle.assertOpen();
      return (sandbox ??= new Sandbox({}));
    },
    columns,
  };
  const queries = new QueryService({ ...runDeps, cluster, release: { ...DEFAULT_QUERY_RELEASE, ...config.queryRelease } });
  if (cluster) {
    catalog.onPublished((listing) => {
      queries
        .prepareEngine(listing._id)
        .catch((e: unknown) => log?.warn({ listingId: listing._id, err: String(e) }, "cluster copy not written at publish; the first run writes it"));
    });
  }
  const analysisRuns = new AnalysisRunService({ ...runDeps, analyses, deadline: { ...DEFAULT_ANALYSIS_RELEASE, ...config.analysisRelease } });
  const profiler: PolicyProfiler = new PolicyProfiler({
    datasets,
    policies,
    budgets: privacyBudget,
    columns,
    defaultEpsilon: config.profile?.epsilon ?? PROFILE_EPSILON_DEFAULT,
  });

  // Finish what a crash left half-done (once every service has registered its audit fact checks),
  // then keep sweeping while the exchange runs: runs, holds, ε debits and the audit outbox.
  // (billing's full recovery covers transfers, top-ups and payouts too; the first sweep does the rest.)
  await billing.recover();
  const sweeper = new RecoverySweeper({ runs: runPath, billing, budgets: privacyBudget, audit, ...(log ? { log } : {}) });
  await sweeper.sweepOnce();
  sweeper.start(recovery.intervalMs);
  lifecycle.onClose("recovery sweeper", () => sweeper.stop());
  datasets.startSweeping();
  lifecycle.onClose("upload sweeper", () => datasets.stopSweeping());

  return {
    store,
    blobs,
    metrics,
    audit,
    accounts,
    datasets,
    policies,
    privacyBudget,
    catalog,
    access,
    billing,
    analyses,
    queries,
    analysisRuns,
    profiler,
  };
}

/**
 * The cluster engine when SPARK_CONNECT_URL is set: a Spark Connect client (its channel opens on
 * first use; close() ends the session) and the Parquet copies it reads, written on first use.
 */
function clusterEngine(config: ServicesConfig, datasets: DatasetsService, columns: ColumnLoader, lifecycle: Lifecycle): ClusterEngineConfig | null {
  if (!config.cluster) return null;
  const client = new SparkConnectClient(config.cluster.sparkConnectUrl);
  lifecycle.onClose("spark connect", () => client.close());
  const engine = new SparkEngine({
    client,
    dataDir: config.cluster.dataDir,
    readColumn: async (version, index) => {
      const name = version.schema.columns[index]!.name;
      return (await columns.load(version as Parameters<ColumnLoader["load"]>[0], [name]))[name]!;
    },
  });
  return {
    engine,
    minRows: config.cluster.minRows,
    release: { ...DEFAULT_QUERY_RELEASE, baseMs: config.cluster.release.baseMs, perThousandRowsMs: config.cluster.release.perThousandRowsMs },
  };
}
