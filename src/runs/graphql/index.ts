/** Registers the run path's GraphQL fields: quote and run for queries and analyses. */
import "./inputs.ts";
import "./quote.ts";
import "./answer.ts";
import "./query-fields.ts";
import "./analysis-fields.ts";
import "./bounds-suggestion.ts";
import "./suggest-bounds-field.ts";
