import { errorType } from "../../graphql/error-types.ts";
import { ProofUnavailable } from "../errors.ts";

errorType(ProofUnavailable, "ProofUnavailable", "The log cannot prove this: the index or tree size is beyond what it has signed, or out of order.");
