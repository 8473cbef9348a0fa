/** Times every GraphQL operation and counts error codes, by operation name (bounded: names come from clients, so capped). */
import type { Plugin } from "graphql-yoga";
import type { DefinitionNode } from "graphql";
import type { Metrics } from "../../metrics.ts";
import type { GraphQLContext } from "../context.ts";

const MAX_NAMES = 500;

export function useOperationMetrics(metrics: Metrics): Plugin {
  const seen = new Set<string>();
  const label = (name: string | null | undefined) => {
    const n = name && /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name) ? name : "anonymous";
    if (seen.has(n) || seen.size < MAX_NAMES) {
      seen.add(n);
      return n;
    }
    return "other";
  };
  return {
    onExecute({ args }) {
      const started = performance.now();
      const op = args.document.definitions.find((d: DefinitionNode) => d.kind === "OperationDefinition");
      const type = op && "operation" in op ? op.operation : "query";
      const operation = label(args.operationName ?? (op && "name" in op ? op.name?.value : undefined));
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in result) return;
          const errors = result.errors ?? [];
          for (const e of errors) metrics.errors.inc({ code: String(e.extensions?.code ?? "INTERNAL_SERVER_ERROR") });
          const seconds = (performance.now() - started) / 1000;
          const outcome = errors.length ? "error" : "ok";
          metrics.graphqlDuration.observe({ operation, type, outcome }, seconds);
          const ctx = args.contextValue as Partial<GraphQLContext>;
          ctx.log?.info(
            {
              operation,
              type,
              outcome,
              ms: Math.round(seconds * 10_000) / 10,
              key: ctx.principal?.keyPrefix ?? (ctx.principal ? "session" : null),
              codes: errors.map((e) => e.extensions?.code ?? "INTERNAL_SERVER_ERROR"),
            },
            "graphql operation",
          );
        },
      };
    },
  };
}
