/**
 * Quotes and runs aggregate queries: the whole path of DESIGN.md "Queries" in one place.
 *   plan      listing → version + policy; entitlement; IR checked by the planner (named rules)
 *   quote     ε per statistic and in total, expected noise, price (on the public size), budget
 *             left, the release moment (fixed from public facts)
 *   run       hold the price → debit ε (before any kernel) → kernel in the sandbox over the
 *             version's columns → bound + noise → post the metered price (void on failure) →
 *             audit event with the canonical IR and a digest of the answer, never the answer
 * An identical canonical query from the same buyer on the same version returns the cached
 * noisy answer: no ε, no charge.
 *
 * Grouping by a column whose policy allows data-derived keys reads that column's dictionary
 * (its distinct values) from the version, here, and hands it to the pure planner; the released
 * groups are then thresholded (see plan.ts KeyThreshold) and the quote states the δ.
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import type { Sandbox } from "../../sandbox/index.ts";
import type { CatalogService } from "../catalog/index.ts";
import type { AccessService } from "../access/index.ts";
import type { DatasetsService } from "../datasets/index.ts";
import { type PrivacyBudgetService, policyCaps, toMicro } from "../privacy/budget/index.ts";
import type { BillingService } from "../billing/index.ts";
import type { QueryPrice } from "../../pricing/index.ts";
import type { AuditTrail } from "../audit-trail.ts";
import type { RunPath } from "./run-path.ts";
import { assertSameQuote, quoteIdOf } from "./quote-id.ts";
import { runIdFor } from "./run-id.ts";
import type { Metrics } from "../metrics.ts";
import type { JsonValue } from "../store/port.ts";
import { formatEpsilon, epsilonToNumber, MECHANISM_VERSION } from "../privacy/mechanism/index.ts";
import {
  derivedKeyColumns,
  planQuery,
  type QueryPlan,
  mergeTotals,
  type KernelOutput,
  releaseAnswer,
  type ReleasedAnswer,
  PolicyViolation,
  type AggregateIR,
  type FilterIR,
  type QueryIR,
  quotedErrors,
  type QuotedError,
} from "../queries/index.ts";
import { POLICY_LIMITS } from "../privacy/policy/index.ts";
import { DEFAULT_QUERY_RELEASE, fallbackAfterMs, holdForRelease, releaseAfterMs, type ReleaseModel } from "./release-slot.ts";
import { computeOnCluster, engineFor, type ClusterEngineConfig, type QueryEngineName } from "./query-engine.ts";
import { prepareQueryKernel } from "./kernel-job.ts";
import { ColumnLoader } from "./columns.ts";
import { budgetStanding } from "./budget-check.ts";
import { profileOfPolicy } from "./policy-profile.ts";
import { InvalidInput } from "../errors.ts";

export interface QueryRequest {
  listingId: string;
  filters: FilterIR[];
  groupBy: string[];
  aggregates: AggregateIR[];
  /** Total ε to spend; the policy's per-query ε when omitted. */
  epsilon?: string | null;
}

export interface QuotedStatistic {
  /** -1 for the release threshold's noisy count (kind "GROUP_THRESHOLD"). */
  aggregateIndex: number;
  kind: string;
  column: string | null;
  epsilon: string;
  expectedStdDev: number;
}

export interface Quote {
  /** Names this quote: a run that passes it is refused with PRICE_CHANGED if the price moved. */
  quoteId: string;
  listingId: string;
  datasetId: string;
  datasetVersion: number;
  queryHash: string;
  /** The rows the price counts: the size the owner declared public (its bucket's bound), 0 when none. */
  rowsPriced: number;
  /** The answer is released this long after the run starts (fixed from public facts, see release-slot.ts). */
  releaseAfterMs: number;
  /** k: a group over public keys whose noisy unit count is below it shows no values (suppressed). */
  suppressBelowUnits: number;
  epsilon: string;
  statistics: QuotedStatistic[];
  /** Per aggregate: noise and the bias of bounding, from the policy's DP profile only (error-model.ts). */
  expectedErrors: QuotedError[];
  price: QueryPrice | null;
  buyerEpsilonRemaining: number;
  datasetEpsilonRemaining: number;
  /** The same query was answered before for this buyer: running it again costs nothing. */
  cached: boolean;
  /** δ of the (ε, δ) guarantee: 0 unless the query groups by data-derived keys. */
  delta: number;
  /** How groups over data-derived keys are released; null when every group key is public. */
  groupThreshold: QuotedGroupThreshold | null;
}

export interface QuotedGroupThreshold {
  /** k: groups with fewer units are never released. */
  minGroupSize: number;
  /** τ: a group is released only when its unit count plus noise reaches this. */
  tau: number;
  delta: number;
  /** δ / maxGroupsPerUnit: the most probable release of a group of exactly k units. */
  deltaPerGroup: number;
  epsilon: string;
  expectedStdDev: number;
}

export interface QueryAnswer {
  queryId: string;
  quote: Quote;
  answer: ReleasedAnswer;
  cached: boolean;
  charged: { amount: number; currency: string } | null;
}

export interface QueryServiceDeps {
  catalog: CatalogService;
  access: AccessService;
  datasets: DatasetsService;
  budgets: PrivacyBudgetService;
  billing: BillingService | null;
  /** The audit log with its outbox: the query.executed event is never lost once an answer is out. */
  audit: AuditTrail;
  metrics: Metrics;
  sandbox: () => Sandbox;
  /** The one run path (record → reserve → compute → stage → settle → log → release). */
  runPath: RunPath;
  partitions?: number;
  /** When answers are released (release-slot.ts); the default model when omitted. */
  release?: ReleaseModel;
  /** Column cache shared with other readers of the same versions (analyses); one of its own when omitted. */
  columns?: ColumnLoader;
  /** The cluster engine (Spark), when configured: see query-engine.ts. */
  cluster?: ClusterEngineConfig | null;
}

interface Prepared {
  plan: QueryPlan;
  /** The answer cache key: the query, the policy it was planned under and the mechanism. */
  answerHash: string;
  policy: Awaited<ReturnType<CatalogService["queryable"]>>["policy"];
  quote: Quote;
  ownerId: string;
  versionId: string;
  caps: ReturnType<typeof policyCaps>;
  listing: Awaited<ReturnType<CatalogService["queryable"]>>["listing"];
  version: Awaited<ReturnType<CatalogService["queryable"]>>["version"];
  /** The engine and its release model, chosen from public facts (query-engine.ts). */
  engine: QueryEngineName;
  release: ReleaseModel;
}

/**
 * The canonical IR as the audit log keeps it. The log refuses a "values" key (it must never
 * carry data values), so an `in` filter lists public keys under "in"; on a derived-keys column
 * the strings are the buyer's own and possibly personal, so only their hash and count are kept
 * (and so for a public list too long for an audit event, which is capped at 64 KiB).
 */
function auditedIR(plan: QueryPlan, policy: Prepared["policy"]): JsonValue {
  const ir = JSON.parse(canonicalize(plan.ir)!) as QueryIR;
  const filters = ir.filters.map((f): JsonValue => {
    if (f.op !== "in") return f as unknown as JsonValue;
    const listed = canonicalize(f.values)!;
    const derived = policy.dimensions.some((d) => d.column === f.column && d.derivedKeys === true);
    if (!derived && listed.length <= 2048) return { column: f.column, op: f.op, in: f.values };
    return { column: f.column, op: f.op, inCount: f.values.length, inSha256: createHash("sha256").update(listed).digest("hex") };
  });
  return { ...(ir as unknown as Record<string, JsonValue>), filters, queryHash: plan.hash };
}

export class QueryService {
  private readonly deps: QueryServiceDeps;
  private readonly columns: ColumnLoader;
  private readonly release: ReleaseModel;
  /** Dictionaries of derived-keys columns by (version, column): versions never change. */
  private readonly dictionaries = new Map<string, readonly string[]>();

  constructor(deps: QueryServiceDeps) {
    this.deps = deps;
    this.columns = deps.columns ?? new ColumnLoader(deps.datasets);
    this.release = deps.release ?? DEFAULT_QUERY_RELEASE;
  }

  /**
   * Writes the cluster engine's copy of a listing's version ahead of its first run (at publish),
   * so a run's deadline is spent computing; nothing when the listing runs on the kernel.
   */
  async prepareEngine(listingId: string): Promise<void> {
    if (!this.deps.cluster) return;
    const { version, publicRows } = await this.deps.catalog.queryable(listingId);
    if (engineFor(publicRows, this.deps.cluster) === "cluster") await this.deps.cluster.engine.prepare(version);
  }

  async quote(buyerId: string, req: QueryRequest): Promise<Quote> {
    return (await this.prepare(buyerId, req)).quote;
  }

  private async prepare(buyerId: string, req: QueryRequest): Promise<Prepared> {
    const { listing, version, policy, publicRows } = await this.deps.catalog.queryable(req.listingId);
    if (!(await this.deps.access.hasEntitlement(buyerId, { listingId: listing._id }))) {
      throw new PolicyViolation("NO_ENTITLEMENT", "input.listingId", "you have no access to this listing: request access first (requestAccess)");
    }
    const ir: QueryIR = {
      datasetId: listing.datasetId,
      datasetVersion: listing.datasetVersion,
      filters: req.filters,
      groupBy: req.groupBy,
      aggregates: req.aggregates,
      epsilon: req.epsilon ?? String(policy.epsilonPerQuery),
    };
    const derivedKeys = await this.derivedKeyDictionaries(version, derivedKeyColumns(ir, policy));
    // The policy's DP contribution profile, when it describes the listed version (policy-profile.ts).
    const planned = { ...policy, contributionProfile: profileOfPolicy(policy, version.version) };
    const plan = planQuery({ ir, policy: planned, schema: version.schema, rowCount: version.rowCount, derivedKeys });
    const caps = policyCaps(policy);
    // A policy change (bounds, k, facts) or a new mechanism never serves an answer computed before it.
    const answerHash = createHash("sha256")
      .update(canonicalize({ queryHash: plan.hash, policyId: policy._id, mechanism: MECHANISM_VERSION })!)
      .digest("hex");
    const rowsPriced = publicRows ?? 0;
    const standing = await budgetStanding(this.deps.budgets, {
      buyerId,
      datasetId: listing.datasetId,
      versionId: version._id,
      hash: answerHash,
      epsilon: plan.epsilon,
      caps,
      what: "query",
    });
    const price = this.deps.billing
      ? await this.deps.billing.quoteForQuery({
          buyerId,
          listingId: listing._id,
          plan: listing.pricePlan,
          estimate: { epsilon: epsilonToNumber(plan.epsilon), rowsScanned: rowsPriced },
        })
      : null;
    const engine = engineFor(publicRows, this.deps.cluster);
    const release = engine === "cluster" ? this.deps.cluster!.release : this.release;
    const releaseAfter = releaseAfterMs(publicRows, release);
    const currency = price?.currency ?? listing.pricePlan.currency;
    const quoteId = quoteIdOf({
      buyerId,
      listingId: listing._id,
      versionId: version._id,
      queryHash: answerHash,
      epsilon: formatEpsilon(plan.epsilon),
      amount: standing.cached ? 0 : (price?.amount ?? 0),
      currency,
      cached: standing.cached,
    });
    const quote: Quote = {
      quoteId,
      listingId: listing._id,
      datasetId: listing.datasetId,
      datasetVersion: listing.datasetVersion,
      queryHash: plan.hash,
      rowsPriced,
      releaseAfterMs: releaseAfter,
      suppressBelowUnits: policy.minGroupSize,
      epsilon: formatEpsilon(plan.epsilon),
      statistics: plan.statistics.map((s) => ({
        aggregateIndex: s.aggregateIndex,
        kind:
          s.stat === "threshold"
            ? "GROUP_THRESHOLD"
            : s.stat === "suppress"
              ? "GROUP_SUPPRESSION"
              : plan.ir.aggregates[s.aggregateIndex]!.kind + (s.stat === "count" ? ":COUNT" : ""),
        column: s.column,
        epsilon: formatEpsilon(s.epsilon),
        expectedStdDev: s.expectedStdDev,
      })),
      expectedErrors: quotedErrors(plan),
      price: standing.cached ? null : price,
      buyerEpsilonRemaining: standing.buyerLeftMicro / 1e6,
      datasetEpsilonRemaining: standing.datasetLeftMicro / 1e6,
      cached: standing.cached,
      delta: plan.keyThreshold?.delta ?? 0,
      groupThreshold: plan.keyThreshold
        ? {
            minGroupSize: plan.keyThreshold.minGroupSize,
            tau: Number(plan.keyThreshold.tau),
            delta: plan.keyThreshold.delta,
            deltaPerGroup: plan.keyThreshold.deltaPerGroup,
            epsilon: formatEpsilon(plan.keyThreshold.statistic.epsilon),
            expectedStdDev: plan.keyThreshold.statistic.expectedStdDev,
          }
        : null,
    };
    return { plan, answerHash, policy, quote, ownerId: listing.ownerId, versionId: version._id, caps, listing, version, engine, release };
  }

  async run(
    buyerId: string,
    req: QueryRequest & { idempotencyKey?: string | null; maxPrice?: number | null; quoteId?: string | null },
  ): Promise<QueryAnswer> {
    const started = performance.now();
    const runId = runIdFor("qry", buyerId, req.idempotencyKey);
    const p = await this.prepare(buyerId, req);
    const { plan, quote } = p;
    assertSameQuote(req.quoteId, quote.quoteId);
    const epsilon = epsilonToNumber(plan.epsilon);
    const slotMs = quote.releaseAfterMs;
    let ran = false;
    try {
      const outcome = await this.deps.runPath.run({
        kind: "query",
        runId,
        buyerId,
        ownerId: p.ownerId,
        listingId: p.listing._id,
        datasetId: p.listing.datasetId,
        versionId: p.versionId,
        queryHash: p.answerHash,
        quoteId: quote.quoteId,
        epsilonMicro: toMicro(plan.epsilon),
        caps: p.caps,
        hold:
          this.deps.billing && !quote.cached
            ? {
                buyerId,
                listingId: p.listing._id,
                ownerId: p.ownerId,
                plan: p.listing.pricePlan,
                estimate: { epsilon, rowsScanned: quote.rowsPriced },
                maxAmount: req.maxPrice ?? null,
              }
            : null,
        compute: async () => {
          ran = true;
          const totals = await this.execute(plan, p.version, p.engine, fallbackAfterMs(slotMs, p.release));
          const answer = releaseAnswer(plan, totals) as unknown as JsonValue;
          // Staged (then charged, logged and returned) at the moment fixed before the run.
          this.deps.metrics.queryReleases.inc({ release: await holdForRelease(started, slotMs, fallbackAfterMs(slotMs, p.release)) });
          return {
            answer,
            // The buyer's receipt and the log carry public figures only: the rows priced, never the rows scanned or CPU.
            usage: { epsilon, rowsScanned: quote.rowsPriced, cpuMs: 0 },
            event: { ir: auditedIR(plan, p.policy), epsilon, rowsScanned: quote.rowsPriced },
          };
        },
      });
      this.deps.metrics.queryDuration.observe({ outcome: outcome.cached ? "cached" : "ok" }, (performance.now() - started) / 1000);
      const charged = outcome.charged ? { amount: outcome.charged.amount, currency: outcome.charged.currency } : null;
      return { queryId: runId, quote, answer: outcome.answer as unknown as ReleasedAnswer, cached: outcome.cached, charged };
    } catch (e) {
      // A failure after the kernel started leaves at the release moment too.
      if (ran) await holdForRelease(started, slotMs, fallbackAfterMs(slotMs, p.release));
      this.deps.metrics.queryDuration.observe({ outcome: "error" }, (performance.now() - started) / 1000);
      throw e;
    }
  }

  /**
   * The distinct values of each derived-keys column, from the version's dictionaries. A column
   * with more than the policy limit allows is left out (the planner then refuses the query the
   * same way whatever the query, without saying how many values there are).
   */
  private async derivedKeyDictionaries(version: Prepared["version"], names: string[]): Promise<Record<string, readonly string[]>> {
    const out: Record<string, readonly string[]> = {};
    for (const name of names) {
      const index = version.schema.columns.findIndex((c) => c.name === name);
      if (index < 0 || version.schema.columns[index]!.type !== "string") continue;
      const size = version.columns?.[index]?.dictionarySize ?? null;
      if (size !== null && size > POLICY_LIMITS.maxDerivedKeys) continue;
      const key = `${version._id}\u0000${name}`;
      let dictionary = this.dictionaries.get(key);
      if (!dictionary) {
        dictionary = await this.deps.datasets.readDictionary(version, index);
        if (this.dictionaries.size >= 256) this.dictionaries.delete(this.dictionaries.keys().next().value!);
        this.dictionaries.set(key, dictionary);
      }
      out[name] = dictionary;
    }
    return out;
  }

  /**
   * The bounded aggregation's totals: on the cluster (Spark, stopped at `deadlineMs`), or by the
   * compiled kernel in the sandbox over the version's columns clustered by unit, one part (row
   * range) per unit partition.
   */
  private async execute(plan: QueryPlan, version: Prepared["version"], engine: QueryEngineName, deadlineMs: number): Promise<number[]> {
    this.deps.metrics.queryEngine.inc({ engine });
    if (engine === "cluster") {
      this.deps.metrics.queryRowsScanned.inc(version.rowCount);
      return computeOnCluster(this.deps.cluster!, this.deps.datasets, plan, version, deadlineMs);
    }
    const job = await prepareQueryKernel(this.columns, plan, version, Math.max(1, this.deps.partitions ?? 2));
    const { partials, metering } = await this.deps.sandbox().runKernelParallel(job);
    // Exact figures for operators (metrics); buyers never see them.
    this.deps.metrics.queryRowsScanned.inc(version.rowCount);
    this.deps.metrics.queryCpuSeconds.inc(metering.cpuMs / 1000);
    return mergeTotals(partials as KernelOutput[]);
  }
}
