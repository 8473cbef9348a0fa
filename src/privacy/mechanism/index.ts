/** The privacy gate's noise mechanisms: exact discrete Laplace over node:crypto, at public granularities. */
export * from "./csprng.ts";
export * from "./discrete-laplace.ts";
export * from "./epsilon.ts";
export * from "./granularity.ts";
export * from "./laplace-mechanism.ts";
