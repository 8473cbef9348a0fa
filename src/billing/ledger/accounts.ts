/**
 * Ledger accounts and their keys. Every account has a signed balance in one currency's minor
 * units, and every transfer's entries sum to zero, so Σ over all accounts is always zero:
 *
 *   buyer credit     + what a buyer may spend (never negative; holds reserve part of it)
 *   owner payable    + what the exchange owes an owner (paid out through the payment rail)
 *   platform revenue + the platform's fees
 *   clearing         − money received on a payment rail (Stripe, or the offline demo rail)
 *                      and not yet paid out: top-ups push it down, payouts bring it back
 *   refunds          − credit the platform gave back to buyers at its own cost
 */
export const ACCOUNT_KINDS = ["buyer_credit", "owner_payable", "platform_revenue", "stripe_clearing", "offline_clearing", "refunds"] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

export type Rail = "stripe" | "offline";

export interface LedgerAccount {
  kind: AccountKind;
  /** The exchange account ("acc_…") this ledger account belongs to, or null for platform accounts. */
  holderId: string | null;
  currency: string;
  createdAt: string;
}

export const accountKey = {
  buyerCredit: (accountId: string, currency: string) => `buyer:${accountId}:${currency}`,
  ownerPayable: (accountId: string, currency: string) => `owner:${accountId}:${currency}`,
  platformRevenue: (currency: string) => `platform:${currency}`,
  clearing: (rail: Rail, currency: string) => `clearing:${rail}:${currency}`,
  refunds: (currency: string) => `refunds:${currency}`,
};

/** What an account key names: its kind, holder and currency. */
export function describeAccount(key: string): Omit<LedgerAccount, "createdAt"> {
  const parts = key.split(":");
  const [head] = parts;
  if (head === "buyer" && parts.length === 3) return { kind: "buyer_credit", holderId: parts[1]!, currency: parts[2]! };
  if (head === "owner" && parts.length === 3) return { kind: "owner_payable", holderId: parts[1]!, currency: parts[2]! };
  if (head === "platform" && parts.length === 2) return { kind: "platform_revenue", holderId: null, currency: parts[1]! };
  if (head === "refunds" && parts.length === 2) return { kind: "refunds", holderId: null, currency: parts[1]! };
  if (head === "clearing" && parts.length === 3 && (parts[1] === "stripe" || parts[1] === "offline")) {
    return { kind: parts[1] === "stripe" ? "stripe_clearing" : "offline_clearing", holderId: null, currency: parts[2]! };
  }
  throw new Error(`not a ledger account key: ${key}`);
}

/** The account key of a buyer's month on one listing, in the usage journal (allowances, cap). */
export function usageKey(buyerId: string, listingId: string, month: string): string {
  return `usage:${buyerId}:${listingId}:${month}`;
}
