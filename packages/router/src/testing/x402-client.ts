import { getAddress, toHex } from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import {
  type PaymentRequirements,
  TRANSFER_WITH_AUTHORIZATION_TYPES,
  X402_NETWORKS,
} from "../core/x402/types.js";
import { encodeBase64Json } from "../core/x402/verify.js";

/** A fixed test key (never funded anywhere). */
export const PAYER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
export const payer: PrivateKeyAccount = privateKeyToAccount(PAYER_KEY);

/** Overrides a test applies to the authorization it signs (to make it bad on purpose). */
export interface PaymentTweaks {
  value?: string;
  to?: `0x${string}`;
  validAfter?: number;
  validBefore?: number;
  nonce?: `0x${string}`;
  network?: string;
  signer?: PrivateKeyAccount;
  chainId?: number;
}

/** Sign an x402 v1 exact payment for one `accepts` entry, as x402 clients do; returns X-PAYMENT. */
export async function signPayment(
  req: PaymentRequirements,
  tweaks: PaymentTweaks = {},
  account: PrivateKeyAccount = payer,
): Promise<{ header: string; nonce: `0x${string}` }> {
  const now = Math.floor(Date.now() / 1000);
  const nonce = tweaks.nonce ?? toHex(crypto.getRandomValues(new Uint8Array(32)));
  const auth = {
    from: account.address,
    to: tweaks.to ?? getAddress(req.payTo),
    value: tweaks.value ?? req.maxAmountRequired,
    validAfter: String(tweaks.validAfter ?? now - 600),
    validBefore: String(tweaks.validBefore ?? now + req.maxTimeoutSeconds),
    nonce,
  };
  const signature = await (tweaks.signer ?? account).signTypedData({
    domain: {
      name: req.extra.name,
      version: req.extra.version,
      chainId: tweaks.chainId ?? X402_NETWORKS[req.network].chainId,
      verifyingContract: getAddress(req.asset),
    },
    types: TRANSFER_WITH_AUTHORIZATION_TYPES,
    primaryType: "TransferWithAuthorization",
    message: {
      ...auth,
      value: BigInt(auth.value),
      validAfter: BigInt(auth.validAfter),
      validBefore: BigInt(auth.validBefore),
    },
  });
  const header = encodeBase64Json({
    x402Version: 1,
    scheme: "exact",
    network: tweaks.network ?? req.network,
    payload: { signature, authorization: auth },
  });
  return { header, nonce };
}
