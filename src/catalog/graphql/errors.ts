import { builder } from "../../graphql/builder.ts";
import { DomainErrorInterface, errorType } from "../../graphql/error-types.ts";
import { ListingStatusConflict, PolicyRequired } from "../errors.ts";

builder.objectType(ListingStatusConflict, {
  name: "ListingStatusConflict",
  description: "The status change is not possible from the listing's current status (or not for you). Nothing changed.",
  interfaces: [DomainErrorInterface],
  isTypeOf: (v) => v instanceof ListingStatusConflict,
  fields: (t) => ({ status: t.exposeString("status", { description: "The listing's current status." }) }),
});

errorType(PolicyRequired, "PolicyRequired", "Declare the dataset's privacy policy (declarePrivacyPolicy) before publishing.");
