/** Splitting a charge between the platform and the listing's owner, to the minor unit. */
import { assertNonNegativeInteger, mulDivFloor } from "./money.ts";

export interface FeeSplit {
  platformFee: number;
  ownerShare: number;
}

/**
 * The platform takes floor(amount × bp / 10000); the owner gets everything else, so the two
 * always add up to the amount exactly and rounding favours the owner.
 */
export function splitPlatformFee(amount: number, basisPoints: number): FeeSplit {
  assertNonNegativeInteger(amount, "amount");
  if (!Number.isInteger(basisPoints) || basisPoints < 0 || basisPoints > 10_000) {
    throw new RangeError(`platform fee must be 0..10000 basis points, got ${basisPoints}`);
  }
  const platformFee = mulDivFloor(amount, basisPoints, 10_000);
  return { platformFee, ownerShare: amount - platformFee };
}
