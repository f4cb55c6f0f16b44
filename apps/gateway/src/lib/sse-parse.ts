// The parser lives in @portal/contracts so the web app's playground uses the same framing rules.
export { parseSse, type SseItem } from "@portal/contracts";
