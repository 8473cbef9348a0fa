/** Buyers are shown by a short form of their account id: the API gives owners no buyer's email. */
import { rawId } from "../../format.ts";

export function buyerLabel(buyerId: string): string {
  let raw = buyerId;
  try {
    raw = rawId(buyerId);
  } catch {
    raw = buyerId;
  }
  return raw.length > 10 ? `…${raw.slice(-8)}` : raw;
}
