/** Expected failures of the accounts module, returned to clients as typed results. */
import { DomainError } from "../errors.ts";

export class EmailTaken extends DomainError {
  readonly code = "EMAIL_TAKEN";
  constructor() {
    super("an account with this email already exists");
    this.name = "EmailTaken";
  }
}

export class WeakPassword extends DomainError {
  readonly code = "WEAK_PASSWORD";
  readonly reasons: string[];
  constructor(reasons: string[]) {
    super(`password is too weak: ${reasons.join("; ")}`);
    this.name = "WeakPassword";
    this.reasons = reasons;
  }
}

/** Same error for an unknown email and a wrong password, so sign-in cannot probe for accounts. */
export class InvalidCredentials extends DomainError {
  readonly code = "INVALID_CREDENTIALS";
  constructor() {
    super("email or password is wrong");
    this.name = "InvalidCredentials";
  }
}

export { Unauthenticated } from "../viewer.ts";
