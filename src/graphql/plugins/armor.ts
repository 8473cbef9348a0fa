/** Static abuse limits from graphql-armor: depth, aliases, tokens, directives, field suggestions. */
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import type { Plugin } from "graphql-yoga";

export const LIMITS = { maxDepth: 12, maxAliases: 15, maxTokens: 3000, maxDirectives: 20 } as const;

export function useArmor(production: boolean): Plugin {
  return EnvelopArmorPlugin({
    maxDepth: { n: LIMITS.maxDepth, ignoreIntrospection: true, flattenFragments: true },
    maxAliases: { n: LIMITS.maxAliases },
    maxTokens: { n: LIMITS.maxTokens },
    maxDirectives: { n: LIMITS.maxDirectives },
    // Our own connection-aware cost limit (plugins/cost-limits.ts) replaces armor's.
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: production },
  }) as Plugin;
}
