/** Registers the privacy budget's GraphQL types and fields. */
import "./errors.ts";
import "./budget.ts";
import "./queries.ts";
