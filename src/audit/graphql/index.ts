/** Registers the audit module's GraphQL types and fields. */
import "./errors.ts";
import "./event.ts";
import "./checkpoint.ts";
import "./proofs.ts";
import "./reports.ts";
import "./queries.ts";
