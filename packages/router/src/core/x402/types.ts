import { z } from "zod";

/** x402 protocol v1, `exact` scheme on EVM (EIP-3009 transferWithAuthorization). */
export const X402_VERSION = 1;

/** Networks this router accepts, with chain id and the USDC contract and EIP-712 domain. */
export const X402_NETWORKS = {
  "base-sepolia": {
    chainId: 84532,
    usdc: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
    name: "USDC",
    version: "2",
  },
  base: {
    chainId: 8453,
    usdc: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
    name: "USD Coin",
    version: "2",
  },
} as const;
export type X402Network = keyof typeof X402_NETWORKS;

/** One entry of `accepts` in a 402 body (spec v1 §5.1). */
export interface PaymentRequirements {
  scheme: "exact";
  network: X402Network;
  maxAmountRequired: string;
  asset: `0x${string}`;
  payTo: `0x${string}`;
  resource: string;
  description: string;
  mimeType: string;
  outputSchema: null;
  maxTimeoutSeconds: number;
  extra: { name: string; version: string };
}

const hexAddress = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const uintString = z.string().regex(/^\d{1,78}$/);

/** The decoded `X-PAYMENT` header (spec v1 §5.2). */
export const PaymentPayload = z.object({
  x402Version: z.number(),
  scheme: z.string(),
  network: z.string(),
  payload: z.object({
    signature: z.string().regex(/^0x[0-9a-fA-F]+$/),
    authorization: z.object({
      from: hexAddress,
      to: hexAddress,
      value: uintString.max(18),
      validAfter: uintString,
      validBefore: uintString,
      nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
    }),
  }),
});
export type PaymentPayload = z.infer<typeof PaymentPayload>;

/** What a facilitator answers to a settlement (spec v1 §5.3 / §7). */
export interface SettleResult {
  success: boolean;
  transaction: string;
  network: string;
  payer: string;
  errorReason?: string;
}

/** EIP-712 types of EIP-3009 `TransferWithAuthorization`. */
export const TRANSFER_WITH_AUTHORIZATION_TYPES = {
  TransferWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

/** USD decimal string → USDC atomic units (6 decimals) as a decimal string. */
export function usdToAtomic(usd: string): string {
  const [whole = "0", frac = ""] = usd.split(".");
  return (BigInt(whole) * 1_000_000n + BigInt(`${frac}000000`.slice(0, 6))).toString();
}
