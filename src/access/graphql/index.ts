/** Registers the access module's GraphQL types and fields. */
import "./errors.ts";
import "./access-request.ts";
import "./mutations.ts";
import "./queries.ts";
