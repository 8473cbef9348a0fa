import { describe, expect, it } from "vitest";
import { hashPassword, passwordWeaknesses, verifyPassword } from "../../src/accounts/passwords.ts";
import { bearerKind, newApiKeySecret, newSessionToken, sha256Hex } from "../../src/accounts/credentials.ts";

describe("passwords", () => {
  it("hashes with a fresh salt and verifies only the right password", async () => {
    const a = await hashPassword("Correct-Horse-42");
    const b = await hashPassword("Correct-Horse-42");
    expect(a).not.toBe(b);
    expect(a.startsWith("scrypt$32768$8$1$")).toBe(true);
    expect(await verifyPassword("Correct-Horse-42", a)).toBe(true);
    expect(await verifyPassword("Correct-Horse-43", a)).toBe(false);
    expect(await verifyPassword("Correct-Horse-42", "garbage")).toBe(false);
  });

  it("lists every rule a weak password breaks", () => {
    expect(passwordWeaknesses("Correct-Horse-42", "a@b.c")).toEqual([]);
    expect(passwordWeaknesses("a very long passphrase", "a@b.c")).toEqual([]);
    expect(passwordWeaknesses("aaaa", "a@b.c")).toEqual([
      "use at least 10 characters",
      "mix at least three of: lower case, upper case, digits, symbols (or use 16+ characters)",
      "use more than three distinct characters",
    ]);
    expect(passwordWeaknesses("Password123", "x@y.z")).toContain("this password is on the list of most common passwords");
    expect(passwordWeaknesses("Xmarina-2026!", "marina@example.com")).toContain("do not include your email name");
  });
});

describe("bearer credentials", () => {
  it("recognises sessions and API keys by shape, with a visible key prefix", () => {
    const token = newSessionToken();
    const { secret, prefix } = newApiKeySecret();
    expect(bearerKind(token)).toBe("session");
    expect(bearerKind(secret)).toBe("apiKey");
    expect(secret.startsWith(prefix + "_")).toBe(true);
    expect(prefix).toMatch(/^dxk_[A-Za-z0-9]{8}$/);
    expect(bearerKind("dxk_short")).toBeNull();
    expect(bearerKind(token + "x")).toBeNull();
    expect(sha256Hex(secret)).toMatch(/^[0-9a-f]{64}$/);
  });
});
