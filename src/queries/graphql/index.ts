/** Registers the query engine's GraphQL types and fields. */
import "./errors.ts";
import "./inputs.ts";
import "./quote.ts";
import "./answer.ts";
import "./fields.ts";
