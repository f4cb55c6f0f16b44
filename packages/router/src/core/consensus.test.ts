import { describe, expect, it } from "vitest";
import { jaccard, reachConsensus } from "./consensus.js";

const r = (key: string, text: string) => ({ key, text, hash: `h:${text}` });

describe("reachConsensus", () => {
  it("a single result is its own consensus", () => {
    expect(reachConsensus([r("a", "x")])).toMatchObject({ method: "single", agreement: 1 });
  });

  it("a strict majority of identical hashes wins", () => {
    const out = reachConsensus([r("a", "x y"), r("b", "z"), r("c", "x y")]);
    expect(out.method).toBe("majority");
    expect(out.winner.text).toBe("x y");
    expect([...out.agreed].sort()).toEqual(["a", "c"]);
    expect(out.agreement).toBeCloseTo(2 / 3);
  });

  it("a 1–1 tie is no majority: the medoid decides", () => {
    const out = reachConsensus([r("a", "p q"), r("b", "p r")]);
    expect(out.method).toBe("medoid");
    expect(out.agreement).toBeCloseTo(1 / 3);
  });

  it("the medoid is the result closest to all others", () => {
    const out = reachConsensus([
      r("a", "the cat sat on the mat"),
      r("b", "the cat sat on a mat"),
      r("c", "dogs ran far away"),
      r("d", "the cat sat on the rug"),
    ]);
    expect(out.method).toBe("medoid");
    expect(out.winner.key).toBe("a");
    expect([...out.agreed]).toEqual(["a"]);
  });

  it("refuses an empty list", () => {
    expect(() => reachConsensus([])).toThrow(/at least one/);
  });
});

describe("jaccard", () => {
  it("measures word-set overlap", () => {
    expect(jaccard(new Set(["a", "b"]), new Set(["b", "c"]))).toBeCloseTo(1 / 3);
    expect(jaccard(new Set(), new Set())).toBe(1);
    expect(jaccard(new Set(["a"]), new Set())).toBe(0);
  });
});
