/** Registers the privacy-policy GraphQL types and fields. */
import "./errors.ts";
import "./policy.ts";
import "./mutations.ts";
import "./queries.ts";
