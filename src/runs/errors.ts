import { DomainError } from "../errors.ts";

/**
 * The cluster engine could not compute a query: unreachable, failed or out of time. One message
 * for every cause, because why it failed could depend on the data. The hold is released (nothing
 * is charged); the ε debited before the compute stays spent, as for any run that started.
 */
export class EngineUnavailable extends DomainError {
  readonly code = "ENGINE_UNAVAILABLE";
  constructor() {
    super("the cluster engine could not compute this query; nothing was charged, but the ε it reserved stays spent; try again later");
    this.name = "EngineUnavailable";
  }
}
