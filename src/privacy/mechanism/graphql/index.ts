/** Registers the mechanism's GraphQL scalar: Epsilon. */
export { EpsilonScalar } from "./epsilon-scalar.ts";
