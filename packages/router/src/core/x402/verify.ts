import { parseJsonText } from "@portal/contracts";
import { getAddress, verifyTypedData } from "viem";
import {
  PaymentPayload,
  type PaymentRequirements,
  TRANSFER_WITH_AUTHORIZATION_TYPES,
  X402_NETWORKS,
  X402_VERSION,
} from "./types.js";

/** The X-PAYMENT header is not a base64 JSON PaymentPayload (answered 400). */
export class MalformedPaymentError extends Error {
  override name = "MalformedPaymentError";
}

/** Decode `X-PAYMENT`: standard base64 of UTF-8 JSON. */
export function decodePaymentHeader(header: string): PaymentPayload {
  const value = header.trim();
  if (value === "" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new MalformedPaymentError("X-PAYMENT is not base64");
  }
  const read = parseJsonText(Buffer.from(value, "base64").toString("utf8"));
  if (!read.ok) throw new MalformedPaymentError("X-PAYMENT does not decode to JSON");
  const parsed = PaymentPayload.safeParse(read.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MalformedPaymentError(
      `X-PAYMENT is not an x402 v1 exact payload (${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"})`,
    );
  }
  return parsed.data;
}

/** Base64 JSON for `X-PAYMENT-RESPONSE` (and for clients building `X-PAYMENT`). */
export function encodeBase64Json(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64");
}

/** Outcome of a verification: the x402 reason code when it fails. */
export type VerifyResult =
  | { ok: true; payer: string }
  | { ok: false; reason: string; message: string };

const fail = (reason: string, message: string): VerifyResult => ({ ok: false, reason, message });

/**
 * Verify a payment offline against the requirements (spec v1 §6.1, the reference facilitator's
 * checks): version, scheme, network, EIP-712 signature of the EIP-3009 authorization, payee,
 * validity window (6 s buffer before validBefore), and amount. Balance and nonce state on chain are
 * the facilitator's business; nonce replay against this router is checked by the caller.
 */
export async function verifyPayment(
  payment: PaymentPayload,
  req: PaymentRequirements,
  nowS = Math.floor(Date.now() / 1000),
): Promise<VerifyResult> {
  if (payment.x402Version !== X402_VERSION) {
    return fail("invalid_x402_version", `x402Version must be ${X402_VERSION}`);
  }
  if (payment.scheme !== req.scheme)
    return fail("unsupported_scheme", `scheme must be ${req.scheme}`);
  if (payment.network !== req.network) {
    return fail("invalid_network", `network must be ${req.network}, got ${payment.network}`);
  }
  const auth = payment.payload.authorization;
  const net = X402_NETWORKS[req.network];
  let valid = false;
  try {
    valid = await verifyTypedData({
      address: getAddress(auth.from),
      domain: {
        name: req.extra.name,
        version: req.extra.version,
        chainId: net.chainId,
        verifyingContract: getAddress(req.asset),
      },
      types: TRANSFER_WITH_AUTHORIZATION_TYPES,
      primaryType: "TransferWithAuthorization",
      message: {
        from: getAddress(auth.from),
        to: getAddress(auth.to),
        value: BigInt(auth.value),
        validAfter: BigInt(auth.validAfter),
        validBefore: BigInt(auth.validBefore),
        nonce: auth.nonce as `0x${string}`,
      },
      signature: payment.payload.signature as `0x${string}`,
    });
  } catch {
    valid = false;
  }
  if (!valid) {
    return fail(
      "invalid_exact_evm_payload_signature",
      "the authorization signature does not verify for authorization.from",
    );
  }
  if (getAddress(auth.to) !== getAddress(req.payTo)) {
    return fail("invalid_exact_evm_payload_recipient_mismatch", `payment must go to ${req.payTo}`);
  }
  if (BigInt(auth.validBefore) < BigInt(nowS + 6)) {
    return fail(
      "invalid_exact_evm_payload_authorization_valid_before",
      "the authorization has expired",
    );
  }
  if (BigInt(auth.validAfter) > BigInt(nowS)) {
    return fail(
      "invalid_exact_evm_payload_authorization_valid_after",
      "the authorization is not valid yet",
    );
  }
  if (BigInt(auth.value) < BigInt(req.maxAmountRequired)) {
    return fail(
      "invalid_exact_evm_payload_authorization_value",
      `the authorization pays ${auth.value}, ${req.maxAmountRequired} is required`,
    );
  }
  return { ok: true, payer: getAddress(auth.from) };
}
