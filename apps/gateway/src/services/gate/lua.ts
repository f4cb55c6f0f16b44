import { BALANCE_RESERVE_APPLY, BALANCE_RESERVE_CHECK } from "../balance/lua.js";
import { ADMIT_APPLY, ADMIT_CHECK } from "../limits/lua.js";

/**
 * The limit decision and the prepaid reservation as one script (the admission of a prepaid
 * request): both are decided before either is applied, so a request the limits refuse holds no
 * money and one the balance refuses counts against no limit. The balance keys share the org's
 * hash tag with the limit keys, so this is valid on Redis Cluster too.
 * KEYS: the limit keys as for ADMIT_LUA, then the balance mirror, its open and its expired holds.
 * ARGV: as for ADMIT_LUA, then amount, hold id, hold ttlMs (the hold expires at now + ttlMs).
 * Returns ADMIT_LUA's reply followed by the reservation's (see BALANCE_RESERVE_CHECK), whose
 * status is 2 when the balance was not looked at (limits refused, or a dry run).
 */
export const GATE_LUA = `${ADMIT_CHECK}
local nk = #KEYS
local bkey, okey, ekey = KEYS[nk - 2], KEYS[nk - 1], KEYS[nk]
local amount, holdId, ttl = ARGV[5], ARGV[6], tonumber(ARGV[7])
local bal = {2, 0}
if refused == 0 and not dry then
${BALANCE_RESERVE_CHECK}
end
local apply = refused == 0 and not dry and bal[1] == 1
${ADMIT_APPLY}
if apply then
${BALANCE_RESERVE_APPLY}
end
for i = 1, #bal do out[#out + 1] = bal[i] end
return out
`;
