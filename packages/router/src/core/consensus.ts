/** One committed replica result. */
export interface ReplicaResult {
  key: string;
  text: string;
  hash: string;
}

/** Outcome of consensus over replica results. */
export interface ConsensusOutcome {
  method: "single" | "majority" | "medoid";
  winner: ReplicaResult;
  /** Share of replicas agreeing with the winner (majority) or mean similarity to it (medoid). */
  agreement: number;
  /** Keys of the replicas counted as agreeing with the winner. */
  agreed: Set<string>;
}

/** Pick the result: a strict majority of identical hashes, otherwise the medoid by similarity. */
export function reachConsensus(results: ReplicaResult[]): ConsensusOutcome {
  const first = results[0];
  if (first === undefined) throw new Error("consensus needs at least one result");
  if (results.length === 1) {
    return { method: "single", winner: first, agreement: 1, agreed: new Set([first.key]) };
  }
  const groups = new Map<string, ReplicaResult[]>();
  for (const r of results) groups.set(r.hash, [...(groups.get(r.hash) ?? []), r]);
  let largest: ReplicaResult[] = [];
  for (const g of groups.values()) if (g.length > largest.length) largest = g;
  const lead = largest[0];
  if (lead !== undefined && largest.length * 2 > results.length) {
    return {
      method: "majority",
      winner: lead,
      agreement: largest.length / results.length,
      agreed: new Set(largest.map((r) => r.key)),
    };
  }
  // No majority: the medoid is the result with the highest total similarity to the others.
  const words = results.map((r) => wordSet(r.text));
  let best = 0;
  let bestScore = -1;
  for (let i = 0; i < results.length; i++) {
    let score = 0;
    for (let j = 0; j < results.length; j++) {
      if (i !== j) score += jaccard(words[i] ?? new Set(), words[j] ?? new Set());
    }
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  const winner = results[best] ?? first;
  return {
    method: "medoid",
    winner,
    agreement: Math.round((bestScore / (results.length - 1)) * 1000) / 1000,
    agreed: new Set(results.filter((r) => r.hash === winner.hash).map((r) => r.key)),
  };
}

function wordSet(text: string): Set<string> {
  return new Set(text.toLowerCase().split(/\s+/).filter(Boolean));
}

/** Jaccard similarity of two word sets; two empty texts are identical. */
export function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  for (const w of a) if (b.has(w)) inter += 1;
  return inter / (a.size + b.size - inter);
}
