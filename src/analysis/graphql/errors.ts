import { builder } from "../../graphql/builder.ts";
import { DomainErrorInterface } from "../../graphql/error-types.ts";
import { AnalysisConflict } from "../errors.ts";

builder.objectType(AnalysisConflict, {
  name: "AnalysisConflict",
  description: "The analysis is not in the state this needs (already decided, changed meanwhile, nothing approved). Nothing changed.",
  interfaces: [DomainErrorInterface],
  isTypeOf: (v) => v instanceof AnalysisConflict,
  fields: (t) => ({ status: t.exposeString("status", { description: "The analysis's status at the time." }) }),
});
