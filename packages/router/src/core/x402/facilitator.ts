import { keccak256, toHex } from "viem";
import type { PaymentPayload, PaymentRequirements, SettleResult } from "./types.js";

/** A facilitator's `/verify` answer (spec v1 §7). */
export interface VerifyResponse {
  isValid: boolean;
  invalidReason?: string;
  payer?: string;
}

/** Settles verified payments (the on-chain transfer); pluggable. */
export interface Facilitator {
  readonly name: string;
  /**
   * On-chain checks the router cannot do offline (the payer's balance, the nonce not spent on
   * chain), run after the router's own offline verification and before the route. Optional: the
   * in-process facilitator has no chain access.
   */
  verify?(payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResponse>;
  settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResult>;
}

/**
 * In-process facilitator for tests and development: records the settlement and answers a
 * deterministic pseudo transaction hash. It moves no funds.
 */
export class LocalFacilitator implements Facilitator {
  readonly name = "local";
  readonly settled: Array<{ payer: string; value: string; nonce: string; transaction: string }> =
    [];

  async settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResult> {
    const a = payload.payload.authorization;
    const transaction = keccak256(toHex(`${a.from}:${a.nonce}:${payload.payload.signature}`));
    this.settled.push({ payer: a.from, value: a.value, nonce: a.nonce, transaction });
    return { success: true, transaction, network: requirements.network, payer: a.from };
  }
}

/**
 * A remote facilitator (spec v1 §7), e.g. https://x402.org/facilitator: `POST {url}/verify` before
 * the route (balance and on-chain nonce checks) and `POST {url}/settle` after it, both with
 * `{x402Version: 1, paymentPayload, paymentRequirements}`. An unreachable facilitator or a
 * non-JSON answer is reported as `unexpected_verify_error` / `unexpected_settle_error`.
 */
export class HttpFacilitator implements Facilitator {
  readonly name = "http";
  private readonly base: string;

  constructor(
    url: string,
    private readonly headers: Record<string, string> = {},
    private readonly timeoutMs = 30_000,
  ) {
    this.base = url.replace(/\/$/, "");
  }

  private async call(
    op: "verify" | "settle",
    payload: PaymentPayload,
    requirements: PaymentRequirements,
  ): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
    const res = await fetch(`${this.base}/${op}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...this.headers },
      body: JSON.stringify({
        x402Version: 1,
        paymentPayload: payload,
        paymentRequirements: requirements,
      }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const body = (await res.json().catch(() => undefined)) as unknown;
    const isObject = typeof body === "object" && body !== null && !Array.isArray(body);
    return { status: res.status, body: isObject ? (body as Record<string, unknown>) : undefined };
  }

  async verify(
    payload: PaymentPayload,
    requirements: PaymentRequirements,
  ): Promise<VerifyResponse> {
    const payer = payload.payload.authorization.from;
    const unexpected = (why: string): VerifyResponse => ({
      isValid: false,
      invalidReason: `unexpected_verify_error: ${why}`,
      payer,
    });
    try {
      const { status, body } = await this.call("verify", payload, requirements);
      if (
        body === undefined ||
        typeof body.isValid !== "boolean" ||
        (status >= 400 && body.isValid)
      ) {
        return unexpected(`facilitator HTTP ${status}`);
      }
      return {
        isValid: body.isValid,
        ...(typeof body.invalidReason === "string" && { invalidReason: body.invalidReason }),
        payer: typeof body.payer === "string" ? body.payer : payer,
      };
    } catch (err) {
      return unexpected((err as Error).message);
    }
  }

  async settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResult> {
    const { status, body } = await this.call("settle", payload, requirements);
    const ok = status < 400 && body?.success === true;
    const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
    return {
      success: ok,
      transaction: str(body?.transaction) ?? "",
      network: str(body?.network) ?? requirements.network,
      payer: str(body?.payer) ?? payload.payload.authorization.from,
      ...(!ok && {
        errorReason:
          str(body?.errorReason) ?? `unexpected_settle_error: facilitator HTTP ${status}`,
      }),
    };
  }
}
