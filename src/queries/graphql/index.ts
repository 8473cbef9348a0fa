/** Registers the query engine's GraphQL types: its errors (the run path registers quote and run). */
import "./errors.ts";
