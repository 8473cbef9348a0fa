/** Reading listings: one by id, your own, and the public catalog search. */
import type { GraphQLError } from "graphql";
import { codedError } from "../../graphql/coded-error.ts";
import { builder } from "../../graphql/builder.ts";
import { hasRole } from "../../graphql/context.ts";
import { pageRequest, toConnection } from "../../graphql/connections.ts";
import { InvalidInput, NotFound } from "../../errors.ts";
import { MAX_QUERY_LENGTH } from "../search.ts";
import type { SearchHit } from "../service.ts";
import { ListingCategoryEnum, ListingRef } from "./listing.ts";

builder.queryField("listing", (t) =>
  t.field({
    type: ListingRef,
    description: "A listing: anyone may read a published one; drafts and suspended ones only their owner and admins.",
    authScopes: { public: true },
    errors: { types: [NotFound] },
    args: { id: t.arg.globalID({ required: true }) },
    resolve: (_root, { id }, ctx) => {
      if (id.typename !== "Listing") throw new NotFound("listing");
      return ctx.services.catalog.getListing(id.id, { accountId: ctx.principal?.account._id ?? null, admin: hasRole(ctx, "ADMIN") });
    },
  }),
);

builder.queryField("myListings", (t) =>
  t.connection({
    type: ListingRef,
    description: "Your listings in every status, newest first.",
    authScopes: { owner: true },
    resolve: async (_root, args, ctx) => {
      const { first, after } = pageRequest(args);
      const catalog = ctx.services.catalog;
      const page = await catalog.listOwned(ctx.principal!.account._id, first, after);
      return toConnection(page, (l) => catalog.ownedCursor(l), after);
    },
  }),
);

const SearchSortEnum = builder.enumType("ListingSort", {
  values: {
    RELEVANCE: { description: "Best text match first (the default with a query; NEWEST without one)." },
    NEWEST: { description: "Most recently published first." },
    PRICE_ASC: { description: "Cheapest indicative query price first." },
    PRICE_DESC: { description: "Dearest indicative query price first." },
  },
});

const ListingSearchFilter = builder.inputType("ListingSearchFilter", {
  fields: (t) => ({
    category: t.field({ type: ListingCategoryEnum }),
    tags: t.stringList({ description: "Listings carrying every one of these tags." }),
    minPrice: t.int({ description: "Lowest indicative query price, minor units." }),
    maxPrice: t.int({ description: "Highest indicative query price, minor units." }),
    currency: t.string({ description: 'Currency of the price bounds; "cny" when omitted.' }),
    freeOnly: t.boolean({ description: "Only listings that cost nothing." }),
    withFreeTier: t.boolean({ description: "Only listings with a monthly free allowance." }),
  }),
});

builder.queryField("searchListings", (t) =>
  t.connection(
    {
      type: ListingRef,
      description:
        "Searches published listings. `query` matches titles, descriptions and tags in Chinese (character pairs, no " +
        "segmentation needed) and English (words). Anyone may search, signed in or not.",
      authScopes: { public: true },
      args: {
        query: t.arg.string({ description: `Up to ${MAX_QUERY_LENGTH} characters.` }),
        filter: t.arg({ type: ListingSearchFilter }),
        sort: t.arg({ type: SearchSortEnum }),
      },
      resolve: async (_root, args, ctx) => {
        const { first, after } = pageRequest(args);
        const f = args.filter ?? {};
        if (f.minPrice != null && f.maxPrice != null && f.minPrice > f.maxPrice) throw badInput("filter.minPrice: must not exceed maxPrice");
        if ((args.query ?? "").length > MAX_QUERY_LENGTH) throw badInput(`query: must be at most ${MAX_QUERY_LENGTH} characters`);
        try {
          const result = await ctx.services.catalog.search({ ...f, query: args.query, sort: args.sort, first, after });
          const conn = toConnection({ items: result.hits, nextCursor: result.hasNextPage ? "more" : null }, (h) => h.cursor, after);
          return {
            ...conn,
            edges: conn.edges.map((e) => ({ ...e, node: e.node.listing, score: e.node.score })),
            totalCount: result.totalCount,
          };
        } catch (e) {
          if (e instanceof InvalidInput) throw badInput(e.message);
          throw e;
        }
      },
    },
    {
      name: "ListingSearchConnection",
      fields: (c) => ({
        totalCount: c.int({
          description: "Matching listings (with a text query: among the newest 500 candidates holding a query term).",
          resolve: (conn) => (conn as unknown as { totalCount: number }).totalCount,
        }),
      }),
    },
    {
      name: "ListingSearchEdge",
      fields: (e) => ({
        score: e.int({ description: "Relevance (0 without a text query).", resolve: (edge) => (edge as unknown as SearchHit).score }),
      }),
    },
  ),
);

function badInput(message: string): GraphQLError {
  return codedError("BAD_USER_INPUT", message);
}
