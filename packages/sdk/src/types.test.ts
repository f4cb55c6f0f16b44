import type * as contracts from "@portal/contracts";
import { describe, expect, it } from "vitest";
import type { CompletionData, CompletionRequest, ErrorBody, ErrorCode } from "./types.js";

// Compile-time guards: the SDK's hand-written types must accept what the gateway's contracts
// produce and must only send what the gateway's contracts accept. `tsc` fails if they drift.
type Assignable<From, To> = From extends To ? true : false;
const checks: [
  Assignable<contracts.CompletionData, CompletionData>,
  Assignable<CompletionRequest, contracts.CompletionRequest>,
  Assignable<contracts.ErrorCode, ErrorCode>,
  Assignable<ErrorCode, contracts.ErrorCode>,
  Assignable<contracts.ErrorBody, ErrorBody>,
] = [true, true, true, true, true];

describe("SDK wire types", () => {
  it("stay in step with the gateway contracts", () => {
    expect(checks.every(Boolean)).toBe(true);
  });
});
