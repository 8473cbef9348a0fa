/**
 * No text input may carry a NUL character or an unpaired UTF-16 surrogate: stored, they break
 * exports, logs and other clients (a lone surrogate is not valid UTF-8). Checked once for every
 * operation — string literals in the document and every string in the variables — before any
 * resolver runs, so nothing is changed; the error names the place and the rule.
 */
import { GraphQLError, Kind, visit } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { ErrorCode } from "../../error-codes.ts";

const INPUT: ErrorCode = "BAD_USER_INPUT";

function badText(value: string): boolean {
  return value.includes("\u0000") || !value.isWellFormed();
}

/** The path of the first bad string in a variables value, or null. */
function firstBad(value: unknown, path: string): string | null {
  if (typeof value === "string") return badText(value) ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = firstBad(value[i], `${path}[${i}]`);
      if (bad) return bad;
    }
    return null;
  }
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const bad = badText(k) ? `${path}.<key>` : firstBad(v, `${path}.${k}`);
      if (bad) return bad;
    }
  }
  return null;
}

export function useTextInputGuard(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      let where = firstBad(args.variableValues ?? {}, "variables");
      if (!where) {
        visit(args.document, {
          [Kind.STRING]: (node) => {
            if (!where && badText(node.value)) where = `the document, line ${node.loc?.startToken.line ?? "?"}`;
          },
        });
      }
      if (where) {
        setResultAndStopExecution({
          errors: [new GraphQLError(`${where}: text may not contain NUL characters or unpaired UTF-16 surrogates`, { extensions: { code: INPUT } })],
        });
      }
    },
  };
}
