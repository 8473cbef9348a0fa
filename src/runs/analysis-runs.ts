/**
 * Quotes and runs approved analyses — the custom-code path of DESIGN.md "Queries":
 *   plan     the approved revision (pinned hash) → columns re-checked against today's policy;
 *            entitlement; ε split over the outputs; price; the fixed release deadline
 *   run      hold the price → debit ε (before any code runs) → one `map` call per privacy unit
 *            in the sandbox, outputs clamped and rounded to their granularity → trusted sum →
 *            noise → post the quoted price → audit → release at the deadline
 * The buyer sees outputs, ε, price and the deadline; never how many units failed, how long the
 * code ran or how much CPU it took: those depend on single units. The charge is the quoted
 * price (rows to scan and ε), not the CPU used, for the same reason.
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import type { CatalogService } from "../catalog/index.ts";
import { policyCaps, toMicro } from "../privacy/budget/index.ts";
import type { QueryPrice } from "../../pricing/index.ts";
import type { JsonValue } from "../store/port.ts";
import { epsilonToNumber, formatEpsilon, MECHANISM_VERSION, type Epsilon } from "../privacy/mechanism/index.ts";
import { maxRowsPerUnitOf, requestedEpsilon, PolicyViolation } from "../queries/index.ts";
import { ColumnLoader } from "./columns.ts";
import type { QueryServiceDeps } from "./query-runs.ts";
import { assertSameQuote, quoteIdOf } from "./quote-id.ts";
import { runIdFor } from "./run-id.ts";
import { budgetStanding } from "./budget-check.ts";
import { InvalidInput } from "../errors.ts";
import {
  type AnalysisService,
  type AnalysisRevision,
  checkSpec,
  planOutputs,
  releaseVector,
  type PlannedOutput,
  type ReleasedOutput,
} from "../analysis/index.ts";
import { rowsByUnit, unitBatches } from "./analysis-units.ts";
import { DEFAULT_ANALYSIS_RELEASE, holdForRelease, holdUntil, releaseAfterMs, type ReleaseModel } from "./release-slot.ts";

/** What one unit's `map` call may take before it gets the default vector. */
export const ANALYSIS_UNIT_LIMITS = { perUnitTimeoutMs: 100, memoryLimitMb: 64 } as const;

/** Time kept after the sandbox's hard end for summing, noising and staging before the release moment. */
const RELEASE_MARGIN_MS = 250;

export interface AnalysisQuote {
  /** Names this quote: a run that passes it is refused with PRICE_CHANGED if the price moved. */
  quoteId: string;
  analysisId: string;
  revision: number;
  codeHash: string;
  listingId: string;
  datasetId: string;
  datasetVersion: number;
  /** The rows the price counts: the size the owner declared public (its bucket's bound), 0 when none. */
  rowsPriced: number;
  maxRowsPerUnit: number;
  epsilon: string;
  outputs: Array<{ name: string; lo: number; hi: number; epsilon: string; granularity: number; expectedStdDev: number }>;
  price: QueryPrice | null;
  buyerEpsilonRemaining: number;
  datasetEpsilonRemaining: number;
  cached: boolean;
  /** The answer leaves this long after the run starts, however long the code took. */
  releaseAfterMs: number;
}

export interface AnalysisRun {
  runId: string;
  quote: AnalysisQuote;
  outputs: ReleasedOutput[];
  cached: boolean;
  charged: { amount: number; currency: string } | null;
}

/** What a query run needs (catalog, access, datasets, budgets, billing, audit, metrics, sandbox), plus the analyses. */
export interface AnalysisRunServiceDeps extends Omit<QueryServiceDeps, "partitions"> {
  analyses: AnalysisService;
  deadline?: ReleaseModel;
}

type Queryable = Awaited<ReturnType<CatalogService["queryable"]>>;

interface Prepared {
  quote: AnalysisQuote;
  revision: AnalysisRevision;
  planned: PlannedOutput[];
  epsilon: Epsilon;
  hash: string;
  q: Queryable;
}

export class AnalysisRunService {
  private readonly deps: AnalysisRunServiceDeps;
  private readonly columns: ColumnLoader;
  private readonly deadline: ReleaseModel;

  constructor(deps: AnalysisRunServiceDeps) {
    this.deps = deps;
    this.columns = deps.columns ?? new ColumnLoader(deps.datasets);
    this.deadline = deps.deadline ?? DEFAULT_ANALYSIS_RELEASE;
  }

  async quote(buyerId: string, input: { analysisId: string; epsilon?: string | null }): Promise<AnalysisQuote> {
    return (await this.prepare(buyerId, input)).quote;
  }

  private async prepare(buyerId: string, input: { analysisId: string; epsilon?: string | null }): Promise<Prepared> {
    const { analysis, revision } = await this.deps.analyses.approvedFor(buyerId, input.analysisId);
    const q = await this.deps.catalog.queryable(analysis.listingId);
    const { listing, version, policy } = q;
    if (!(await this.deps.access.hasEntitlement(buyerId, { listingId: listing._id }))) {
      throw new PolicyViolation("NO_ENTITLEMENT", "input.analysisId", "you have no access to this analysis's listing any more: request access again");
    }
    // The policy or the schema may have changed since approval: the columns must still be allowed.
    checkSpec(
      revision,
      policy,
      version.schema.columns.map((c) => c.name),
    );
    const epsilon = requestedEpsilon(input.epsilon ?? String(policy.epsilonPerQuery), policy.epsilonPerQuery);
    const planned = planOutputs(revision.outputs, epsilon);
    // Keyed by the policy too: a changed policy never serves an answer computed under the old one.
    const hash = createHash("sha256")
      .update(
        canonicalize({
          kind: "analysis",
          analysisId: analysis._id,
          codeHash: revision.codeHash,
          epsilon: formatEpsilon(epsilon),
          policyId: policy._id,
          mechanism: MECHANISM_VERSION,
        })!,
      )
      .digest("hex");
    const publicRows = q.publicRows;
    const standing = await budgetStanding(this.deps.budgets, {
      buyerId,
      datasetId: listing.datasetId,
      versionId: version._id,
      hash,
      epsilon,
      caps: policyCaps(policy),
      what: "analysis",
    });
    const estimate = { epsilon: epsilonToNumber(epsilon), rowsScanned: publicRows ?? 0 };
    const price =
      this.deps.billing && !standing.cached
        ? await this.deps.billing.quoteForQuery({ buyerId, listingId: listing._id, plan: listing.pricePlan, estimate })
        : null;
    const quote: AnalysisQuote = {
      quoteId: quoteIdOf({
        buyerId,
        listingId: listing._id,
        versionId: version._id,
        queryHash: hash,
        epsilon: formatEpsilon(epsilon),
        amount: standing.cached ? 0 : (price?.amount ?? 0),
        currency: price?.currency ?? listing.pricePlan.currency,
        cached: standing.cached,
      }),
      analysisId: analysis._id,
      revision: revision.revision,
      codeHash: revision.codeHash,
      listingId: listing._id,
      datasetId: listing.datasetId,
      datasetVersion: listing.datasetVersion,
      rowsPriced: publicRows ?? 0,
      maxRowsPerUnit: maxRowsPerUnitOf(policy),
      epsilon: formatEpsilon(epsilon),
      outputs: planned.map((o) => ({
        name: o.name,
        lo: o.lo,
        hi: o.hi,
        epsilon: formatEpsilon(o.epsilon),
        granularity: o.granularity,
        expectedStdDev: o.expectedStdDev,
      })),
      price,
      buyerEpsilonRemaining: standing.buyerLeftMicro / 1e6,
      datasetEpsilonRemaining: standing.datasetLeftMicro / 1e6,
      cached: standing.cached,
      releaseAfterMs: releaseAfterMs(publicRows, this.deadline),
    };
    return { quote, revision, planned, epsilon, hash, q };
  }

  async run(
    buyerId: string,
    input: { analysisId: string; epsilon?: string | null; idempotencyKey?: string | null; maxPrice?: number | null; quoteId?: string | null },
  ): Promise<AnalysisRun> {
    const runId = runIdFor("anr", buyerId, input.idempotencyKey, "analysis\u0000");
    const p = await this.prepare(buyerId, input);
    const { quote, q } = p;
    const { listing, version } = q;
    assertSameQuote(input.quoteId, quote.quoteId);
    const estimate = { epsilon: epsilonToNumber(p.epsilon), rowsScanned: quote.rowsPriced };
    const started = performance.now();
    let ran = false;
    try {
      const outcome = await this.deps.runPath.run({
        kind: "analysis",
        runId,
        buyerId,
        ownerId: listing.ownerId,
        listingId: listing._id,
        datasetId: listing.datasetId,
        versionId: version._id,
        queryHash: p.hash,
        quoteId: quote.quoteId,
        epsilonMicro: toMicro(p.epsilon),
        caps: policyCaps(q.policy),
        hold:
          this.deps.billing && !quote.cached
            ? { buyerId, listingId: listing._id, ownerId: listing.ownerId, plan: listing.pricePlan, estimate, maxAmount: input.maxPrice ?? null }
            : null,
        compute: async () => {
          ran = true;
          // Units still running a little before the fixed release moment count as their defaults.
          const sum = await this.execute(p, Date.now() + Math.max(0, quote.releaseAfterMs - RELEASE_MARGIN_MS));
          const answer = releaseVector(p.planned, sum) as unknown as JsonValue;
          // The answer is staged only at the deadline fixed before the run, however long the code took.
          this.deps.metrics.analysisReleases.inc({ release: await holdForRelease(started, quote.releaseAfterMs) });
          return {
            answer,
            // cpuMs 0: the receipt is the buyer's, and CPU time depends on what single units made the code do.
            usage: { ...estimate, cpuMs: 0 },
            event: {
              ir: {
                kind: "analysis",
                analysisId: quote.analysisId,
                revision: quote.revision,
                codeHash: quote.codeHash,
                outputs: quote.outputs.map((o) => o.name),
              },
              epsilon: estimate.epsilon,
              rowsScanned: quote.rowsPriced,
            },
          };
        },
      });
      const charged = outcome.charged ? { amount: outcome.charged.amount, currency: outcome.charged.currency } : null;
      return { runId, quote, outputs: outcome.answer as unknown as ReleasedOutput[], cached: outcome.cached, charged };
    } catch (e) {
      // A failure that came after the code ran leaves at the deadline too.
      if (ran) await holdUntil(started, quote.releaseAfterMs);
      throw e;
    }
  }

  /** One `map` call per unit in the sandbox; returns the trusted sum (exact multiples of g_i). */
  private async execute(p: Prepared, deadlineAt: number): Promise<number[]> {
    const { version, policy } = p.q;
    const unitName = policy.privacyUnit;
    const views = await this.columns.load(version, [unitName, ...p.revision.columns]);
    const units = rowsByUnit(views[unitName]!, maxRowsPerUnitOf(policy));
    const typeOf = (name: string) => version.schema.columns.find((c) => c.name === name)!.type;
    const result = await this.deps.sandbox().runPerUnit({
      source: p.revision.source,
      units: unitBatches(
        units,
        p.revision.columns.map((name) => ({ name, type: typeOf(name), view: views[name]! })),
      ),
      outputDim: p.planned.length,
      ranges: p.planned.map((o) => [o.lo, o.hi] as const),
      defaultVector: p.planned.map((o) => o.default),
      granularity: p.planned.map((o) => o.granularity),
      perUnitTimeoutMs: ANALYSIS_UNIT_LIMITS.perUnitTimeoutMs,
      memoryLimitMb: ANALYSIS_UNIT_LIMITS.memoryLimitMb,
      deadlineAt,
    });
    // For operators: a deadline too tight for the data shows here (buyers never see it).
    if (result.unfinished > 0) this.deps.metrics.analysisUnitsUnfinished.inc(result.unfinished);
    this.deps.metrics.analysisUnitFailures.inc(result.failures);
    return result.sum;
  }
}
