/**
 * Refuses operations whose static cost exceeds the limit (saying the cost), charges each
 * operation's cost to its caller's leaky bucket, and reports both in `extensions.cost`.
 */
import { codedError } from "../coded-error.ts";
import type { Plugin } from "graphql-yoga";
import { operationCost } from "../cost.ts";
import type { LeakyBuckets } from "../rate-limit.ts";
import type { GraphQLContext } from "../context.ts";

export function useCostLimits(options: { maxCost: number; buckets: LeakyBuckets }): Plugin<GraphQLContext> {
  const { maxCost, buckets } = options;
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as GraphQLContext;
      const cost = operationCost(args.schema, args.document, args.operationName, (args.variableValues ?? {}) as Record<string, unknown>);
      if (cost > maxCost) {
        setResultAndStopExecution({
          errors: [
            codedError("COST_LIMIT_EXCEEDED", `operation cost ${cost} exceeds the limit of ${maxCost}; ask for fewer items (first) or fewer fields`, {
              cost,
              limit: maxCost,
            }),
          ],
        });
        return;
      }
      const decision = buckets.take(ctx.rateKey, cost);
      const report = { requested: cost, limit: maxCost, bucket: { remaining: decision.remaining, capacity: decision.capacity } };
      if (!decision.allowed) {
        const retryAfterSeconds = Number.isFinite(decision.retryAfterMs) ? Math.ceil(decision.retryAfterMs / 1000) : null;
        setResultAndStopExecution({
          errors: [
            codedError(
              "RATE_LIMITED",
              `rate limit: this operation costs ${cost} and only ${decision.remaining} is left; retry in ${retryAfterSeconds ?? "—"} s`,
              {
                cost,
                retryAfterSeconds,
                http: { status: 429 },
              },
            ),
          ],
          extensions: { cost: report },
        });
        return;
      }
      return {
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result) return;
          setResult({ ...result, extensions: { ...result.extensions, cost: report } });
        },
      };
    },
  };
}
