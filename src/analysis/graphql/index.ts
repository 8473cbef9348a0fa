/** Registers the analysis module's GraphQL types and fields. */
import "./errors.ts";
import "./analysis.ts";
import "./mutations.ts";
import "./queries.ts";
export { analysisId } from "./mutations.ts";
