/** The public face of src/privacy/policy: other modules import from here only. */
export { type DatasetCatalogSource, NO_DATASETS } from "./dataset-source.ts";
export {
  type PrivacyPolicy,
  type PolicyRules,
  POLICY_LIMITS,
  POLICY_DEFAULTS,
  type DimensionPolicy,
  type MeasurePolicy,
  type PolicyProfile,
  AGGREGATES,
} from "./model.ts";
export {
  type PublicFacts,
  type PublicColumnFact,
  type PublicSize,
  type SizeBucket,
  SIZE_BUCKETS,
  SIZE_BUCKET_NAMES,
  publicFactsOf,
  publicMaxRows,
  publicMinRows,
} from "./public-facts.ts";
export { publicColumns, sampleSchema, type PublicColumnView } from "./public-schema.ts";
export { PrivacyPolicyService, type EpsilonSpentLookup } from "./service.ts";

import type { PrivacyPolicyService as PrivacyPolicyServiceType } from "./service.ts";

declare module "../../graphql/context.ts" {
  interface ExchangeServices {
    policies: PrivacyPolicyServiceType;
  }
}
