import { builder } from "../../graphql/builder.ts";
import { DomainErrorInterface } from "../../graphql/error-types.ts";
import { AccessRequestConflict } from "../errors.ts";

builder.objectType(AccessRequestConflict, {
  name: "AccessRequestConflict",
  description: "An open request already exists, or the request was already decided. Nothing changed.",
  interfaces: [DomainErrorInterface],
  isTypeOf: (v) => v instanceof AccessRequestConflict,
  fields: (t) => ({ status: t.exposeString("status", { description: "Status of the request in the way." }) }),
});
