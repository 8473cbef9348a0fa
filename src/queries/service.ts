/**
 * Quotes and runs aggregate queries: the whole path of DESIGN.md "Queries" in one place.
 *   plan      listing → version + policy; entitlement; IR checked by the planner (named rules)
 *   quote     rows, ε per statistic and in total, expected noise, price, budget left
 *   run       hold the price → debit ε (before any kernel) → kernel in the sandbox over the
 *             version's columns → bound + noise → post the metered price (void on failure) →
 *             audit event with the canonical IR and a digest of the answer, never the answer
 * An identical canonical query from the same buyer on the same version returns the cached
 * noisy answer: no ε, no charge.
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import type { Sandbox } from "../../sandbox/index.ts";
import type { CatalogService } from "../catalog/service.ts";
import type { AccessService } from "../access/service.ts";
import type { DatasetsService } from "../datasets/service.ts";
import type { PrivacyBudgetService } from "../privacy/budget/index.ts";
import { policyCaps, toMicro } from "../privacy/budget/index.ts";
import type { BillingService } from "../billing/service.ts";
import type { QueryPrice } from "../../pricing/index.ts";
import type { AuditRecorder } from "../audit/recorder.ts";
import { auditEvent } from "../audit/actions.ts";
import type { Metrics } from "../metrics.ts";
import type { JsonValue } from "../store/port.ts";
import { formatEpsilon, epsilonToNumber } from "../privacy/mechanism/index.ts";
import { planQuery, type QueryPlan } from "./plan.ts";
import { compileKernel } from "./compile.ts";
import { bindParams, mergeTotals } from "./bind.ts";
import { releaseAnswer, type ReleasedAnswer } from "./release.ts";
import { ColumnLoader } from "./columns.ts";
import { PolicyViolation } from "./errors.ts";
import { InvalidInput } from "../errors.ts";
import { newId } from "../ids.ts";
import type { AggregateIR, FilterIR, QueryIR } from "./ir.ts";

export interface QueryRequest {
  listingId: string;
  filters: FilterIR[];
  groupBy: string[];
  aggregates: AggregateIR[];
  /** Total ε to spend; the policy's per-query ε when omitted. */
  epsilon?: string | null;
}

export interface QuotedStatistic {
  aggregateIndex: number;
  kind: string;
  column: string | null;
  epsilon: string;
  expectedStdDev: number;
}

export interface Quote {
  listingId: string;
  datasetId: string;
  datasetVersion: number;
  queryHash: string;
  rowsToScan: number;
  epsilon: string;
  statistics: QuotedStatistic[];
  price: QueryPrice | null;
  buyerEpsilonRemaining: number;
  datasetEpsilonRemaining: number;
  /** The same query was answered before for this buyer: running it again costs nothing. */
  cached: boolean;
}

export interface QueryAnswer {
  queryId: string;
  quote: Quote;
  answer: ReleasedAnswer;
  cached: boolean;
  charged: { amount: number; currency: string } | null;
  metering: { rows: number; cpuMs: number; wallMs: number };
}

export interface QueryServiceDeps {
  catalog: CatalogService;
  access: AccessService;
  datasets: DatasetsService;
  budgets: PrivacyBudgetService;
  billing: BillingService | null;
  audit: AuditRecorder;
  metrics: Metrics;
  sandbox: () => Sandbox;
  partitions?: number;
}

interface Prepared {
  plan: QueryPlan;
  quote: Quote;
  ownerId: string;
  versionId: string;
  caps: ReturnType<typeof policyCaps>;
  listing: Awaited<ReturnType<CatalogService["queryable"]>>["listing"];
  version: Awaited<ReturnType<CatalogService["queryable"]>>["version"];
}

export class QueryService {
  private readonly deps: QueryServiceDeps;
  private readonly columns: ColumnLoader;

  constructor(deps: QueryServiceDeps) {
    this.deps = deps;
    this.columns = new ColumnLoader(deps.datasets);
  }

  async quote(buyerId: string, req: QueryRequest): Promise<Quote> {
    return (await this.prepare(buyerId, req)).quote;
  }

  private async prepare(buyerId: string, req: QueryRequest): Promise<Prepared> {
    const { listing, version, policy } = await this.deps.catalog.queryable(req.listingId);
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
    const plan = planQuery({ ir, policy, schema: version.schema, rowCount: version.rowCount });
    const caps = policyCaps(policy);
    const [remaining, cachedAnswer] = await Promise.all([
      this.deps.budgets.remaining({ buyerId, datasetId: listing.datasetId }, caps),
      this.deps.budgets.getCachedAnswer(buyerId, version._id, plan.hash),
    ]);
    const epsilonMicro = toMicro(plan.epsilon);
    // Caps were passed in, so both are known; 0 is the safe reading otherwise.
    const buyerLeft = remaining.buyer.remainingMicro ?? 0;
    const datasetLeft = remaining.dataset.remainingMicro ?? 0;
    if (!cachedAnswer && (epsilonMicro > buyerLeft || epsilonMicro > datasetLeft)) {
      const which = epsilonMicro > buyerLeft ? "your budget on this dataset" : "this dataset's global budget";
      throw new PolicyViolation(
        "BUDGET_TOO_SMALL",
        "input.epsilon",
        `this query needs ε ${formatEpsilon(plan.epsilon)} but ${which} has ${Math.min(buyerLeft, datasetLeft) / 1e6} left`,
      );
    }
    const price = this.deps.billing
      ? await this.deps.billing.quoteForQuery({
          buyerId,
          listingId: listing._id,
          plan: listing.pricePlan,
          estimate: { epsilon: epsilonToNumber(plan.epsilon), rowsScanned: plan.rowsToScan },
        })
      : null;
    const quote: Quote = {
      listingId: listing._id,
      datasetId: listing.datasetId,
      datasetVersion: listing.datasetVersion,
      queryHash: plan.hash,
      rowsToScan: plan.rowsToScan,
      epsilon: formatEpsilon(plan.epsilon),
      statistics: plan.statistics.map((s) => ({
        aggregateIndex: s.aggregateIndex,
        kind: plan.ir.aggregates[s.aggregateIndex]!.kind + (s.stat === "count" ? ":COUNT" : ""),
        column: s.column,
        epsilon: formatEpsilon(s.epsilon),
        expectedStdDev: s.expectedStdDev,
      })),
      price: cachedAnswer ? null : price,
      buyerEpsilonRemaining: buyerLeft / 1e6,
      datasetEpsilonRemaining: datasetLeft / 1e6,
      cached: cachedAnswer !== null,
    };
    return { plan, quote, ownerId: listing.ownerId, versionId: version._id, caps, listing, version };
  }

  async run(buyerId: string, req: QueryRequest & { idempotencyKey?: string | null; maxPrice?: number | null }): Promise<QueryAnswer> {
    const started = performance.now();
    const p = await this.prepare(buyerId, req);
    const { plan, quote } = p;
    const queryId = req.idempotencyKey
      ? `qry_${createHash("sha256").update(`${buyerId}\u0000${req.idempotencyKey}`).digest("hex").slice(0, 24)}`
      : newId("qry");
    const epsilonMicro = toMicro(plan.epsilon);
    const billing = this.deps.billing;
    const hold =
      billing && !quote.cached
        ? await billing.holdForQuery({
            buyerId,
            listingId: p.listing._id,
            ownerId: p.ownerId,
            plan: p.listing.pricePlan,
            estimate: { epsilon: epsilonToNumber(plan.epsilon), rowsScanned: plan.rowsToScan },
            idempotencyKey: queryId,
            maxAmount: req.maxPrice ?? null,
          })
        : null;
    if (hold && hold.state === "voided") {
      // A replayed key whose first run failed: its hold is gone for good; a new run needs a new key.
      throw new InvalidInput([{ path: "input.idempotencyKey", message: "this key belongs to a run that failed and was not charged; retry with a new key" }]);
    }
    let metering = { rows: 0, cpuMs: 0, wallMs: 0 };
    try {
      const answered = await this.deps.budgets.answerOnce(
        {
          queryId,
          buyerId,
          datasetId: p.listing.datasetId,
          datasetVersionId: p.versionId,
          canonicalQueryHash: plan.hash,
          epsilonMicro,
          buyerCapMicro: p.caps.buyerCapMicro,
          globalCapMicro: p.caps.globalCapMicro,
        },
        async () => {
          const { totals, metering: m } = await this.execute(plan, p.version);
          metering = m;
          return releaseAnswer(plan, totals) as unknown as JsonValue;
        },
      );
      const answer = answered.answer as unknown as ReleasedAnswer;
      let charged: QueryAnswer["charged"] = null;
      if (hold && billing) {
        if (answered.cached) await billing.voidQuery(hold._id, "answered from cache");
        else {
          const receipt = await billing.postQuery(hold._id, { epsilon: epsilonToNumber(plan.epsilon), rowsScanned: metering.rows, cpuMs: metering.cpuMs });
          charged = { amount: receipt.meter.price, currency: receipt.meter.currency };
        }
      }
      if (!answered.cached) {
        await this.deps.audit.record(
          auditEvent("query.executed", {
            actor: buyerId,
            subject: { queryId, datasetId: p.listing.datasetId, ownerId: p.ownerId, buyerId, listingId: p.listing._id, versionId: p.versionId },
            data: {
              ir: JSON.parse(canonicalize(plan.ir)!) as JsonValue,
              epsilon: epsilonToNumber(plan.epsilon),
              priceMinor: charged?.amount ?? 0,
              currency: charged?.currency ?? quote.price?.currency ?? "CNY",
              rowsScanned: metering.rows,
              resultDigest: createHash("sha256").update(canonicalize(answer as unknown as JsonValue)!).digest("hex"),
            },
          }),
        );
      }
      this.deps.metrics.queryDuration.observe({ outcome: answered.cached ? "cached" : "ok" }, (performance.now() - started) / 1000);
      return { queryId, quote, answer, cached: answered.cached, charged, metering };
    } catch (e) {
      if (hold && billing) await billing.voidQuery(hold._id, "query failed").catch(() => undefined);
      this.deps.metrics.queryDuration.observe({ outcome: "error" }, (performance.now() - started) / 1000);
      throw e;
    }
  }

  /** Runs the compiled kernel over the version's columns in the sandbox, one part per unit partition. */
  private async execute(plan: QueryPlan, version: Prepared["version"]): Promise<{ totals: number[]; metering: QueryAnswer["metering"] }> {
    const program = compileKernel(plan);
    const views = await this.columns.load(version, program.columns);
    const bound = bindParams(plan, program, views);
    const partitions = Math.max(1, this.deps.partitions ?? 2);
    const rows = version.rowCount;
    const { partials, metering } = await this.deps.sandbox().runKernelParallel({
      source: program.source,
      columns: program.columns.map((n) => ({ values: views[n]!.values, nulls: views[n]!.nulls })),
      columnsKey: `${version._id}:${program.columns.join("\u0000")}`,
      parts: Array.from({ length: partitions }, (_, partition) => ({ rowStart: 0, rowEnd: rows, params: { ...bound, partitions, partition } })),
    });
    const totals = mergeTotals(partials as Array<{ totals: number[] }>);
    return { totals, metering: { rows: rows, cpuMs: metering.cpuMs, wallMs: metering.wallMs } };
  }
}
