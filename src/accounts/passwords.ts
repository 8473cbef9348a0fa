/** Password hashing with scrypt from node:crypto, and the rules a new password must meet. */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from "node:crypto";

const PARAMS = { N: 1 << 15, r: 8, p: 1 } as const;
const KEY_LEN = 32;

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

function options(N: number, r: number, p: number): ScryptOptions {
  return { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
}

/** "scrypt$N$r$p$salt$hash" (base64url), so parameters can be raised later without a migration. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password.normalize("NFKC"), salt, KEY_LEN, options(PARAMS.N, PARAMS.r, PARAMS.p));
  return ["scrypt", PARAMS.N, PARAMS.r, PARAMS.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const key = await scrypt(password.normalize("NFKC"), Buffer.from(salt, "base64url"), expected.length, options(+n, +r, +p));
  return timingSafeEqual(key, expected);
}

/** A stored hash for no account: signing in as an unknown email costs the same time as a known one. */
export const DECOY_HASH_PROMISE: Promise<string> = hashPassword(randomBytes(18).toString("base64url"));

const COMMON = new Set([
  "password",
  "password1",
  "password123",
  "1234567890",
  "12345678910",
  "qwertyuiop",
  "iloveyou123",
  "letmein123",
  "admin12345",
  "welcome123",
  "abc1234567",
  "1q2w3e4r5t",
  "qwerty12345",
  "11111111111",
]);

/** Why a password is too weak, or an empty list when it is fine. */
export function passwordWeaknesses(password: string, email: string): string[] {
  const reasons: string[] = [];
  const chars = [...password];
  if (chars.length < 10) reasons.push("use at least 10 characters");
  if (chars.length > 256) reasons.push("use at most 256 characters");
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (chars.length < 16 && classes < 3) {
    reasons.push("mix at least three of: lower case, upper case, digits, symbols (or use 16+ characters)");
  }
  if (new Set(chars).size < 4) reasons.push("use more than three distinct characters");
  if (COMMON.has(password.toLowerCase())) reasons.push("this password is on the list of most common passwords");
  const local = email.split("@")[0]?.toLowerCase() ?? "";
  if (local.length >= 4 && password.toLowerCase().includes(local)) reasons.push("do not include your email name");
  return reasons;
}
