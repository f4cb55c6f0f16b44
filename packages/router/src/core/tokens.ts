import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { O200K_TOKEN_SPLIT_REGEX } from "gpt-tokenizer/esm/encodingParams/constants";

/**
 * o200k_base token counts, from a compact table: the gateway's pricing estimates and context
 * checks, and the router's prompt and fallback completion counts (`@portal/router/tokens`).
 *
 * gpt-tokenizer keeps its 200k-entry vocabulary as JS strings in a Map (about 25 MB of live heap,
 * which V8 then lets grow to several times that under load) plus a merge cache of up to 100k
 * entries. Counting needs neither: here the vocabulary is read once from the same package's
 * canonical `o200k_base.tiktoken` file into one byte buffer, an offset table and an open-addressing
 * hash table (about 4 MB in all), and byte-pair merging runs over that. The split regex is
 * gpt-tokenizer's, and the merge rule is the same (lowest rank first, leftmost on ties), so every
 * count equals `countTokens` of gpt-tokenizer with special-token markers counted as plain text
 * (a property test holds the two together), but for one case where this one is tiktoken's and
 * gpt-tokenizer's is off: U+FEFF is one token (bytes EF BB BF are in the vocabulary), which
 * gpt-tokenizer counts as two because TextDecoder drops the BOM when it turns its table into
 * strings. Never throws on customer input.
 */
class CompactBpe {
  private readonly bytes: Uint8Array;
  private readonly offsets: Uint32Array;
  private readonly ranks: Int32Array;
  private readonly table: Int32Array;
  private readonly mask: number;
  /** Bytes in the vocabulary's longest token: no token covers more characters. */
  private readonly maxTokenBytes: number;
  private scratch = new Uint8Array(1024);
  private readonly encoder = new TextEncoder();
  /** Counts of recently seen short pieces (words repeat a lot); bounded, oldest dropped first. */
  private readonly cache = new Map<string, number>();

  constructor(tiktoken: string) {
    const lines = tiktoken.split("\n").filter((l) => l.length > 0);
    const n = lines.length;
    const decoded: Buffer[] = new Array(n);
    const ranks = new Int32Array(n);
    let total = 0;
    let longest = 1;
    for (let i = 0; i < n; i++) {
      const line = lines[i] as string;
      const space = line.indexOf(" ");
      const token = Buffer.from(line.slice(0, space), "base64");
      decoded[i] = token;
      ranks[i] = Number(line.slice(space + 1));
      total += token.length;
      if (token.length > longest) longest = token.length;
    }
    this.maxTokenBytes = longest;
    this.bytes = new Uint8Array(total);
    this.offsets = new Uint32Array(n + 1);
    this.ranks = ranks;
    let at = 0;
    for (let i = 0; i < n; i++) {
      const token = decoded[i] as Buffer;
      this.bytes.set(token, at);
      this.offsets[i] = at;
      at += token.length;
    }
    this.offsets[n] = at;
    let size = 1;
    while (size < n * 2) size <<= 1;
    this.mask = size - 1;
    this.table = new Int32Array(size).fill(-1);
    for (let i = 0; i < n; i++) {
      let slot =
        hash(this.bytes, this.offsets[i] as number, this.offsets[i + 1] as number) & this.mask;
      while ((this.table[slot] as number) !== -1) slot = (slot + 1) & this.mask;
      this.table[slot] = i;
    }
  }

  /** The rank of bytes [start, end) of `buf`, or -1 when they are not one token. */
  private rank(buf: Uint8Array, start: number, end: number): number {
    let slot = hash(buf, start, end) & this.mask;
    const len = end - start;
    for (;;) {
      const i = this.table[slot] as number;
      if (i === -1) return -1;
      const from = this.offsets[i] as number;
      if ((this.offsets[i + 1] as number) - from === len) {
        let same = true;
        for (let k = 0; k < len; k++) {
          if (this.bytes[from + k] !== buf[start + k]) {
            same = false;
            break;
          }
        }
        if (same) return this.ranks[i] as number;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** For tests: the two merge strategies on the same UTF-8 text (no cache, no whole-piece lookup). */
  mergeBoth(text: string): [number, number] {
    const bytes = this.encoder.encode(text);
    return [this.mergeLinear(bytes, bytes.length), this.mergeHeap(bytes, bytes.length)];
  }

  count(text: string): number {
    let total = 0;
    for (const [piece] of text.matchAll(O200K_TOKEN_SPLIT_REGEX)) total += this.countPiece(piece);
    return total;
  }

  /**
   * The longest prefix of `text` made of whole pieces that fit in `max` tokens, then as much of
   * the next piece as still fits, with its count. Stops reading at the cut, so a huge text costs
   * only its kept part. Pieces are the split regex's matches, which tile the text.
   */
  truncate(text: string, max: number): { text: string; tokens: number } {
    let total = 0;
    let end = 0;
    const last: string[] = [];
    let lastStart = 0;
    let exact = false;
    for (const m of text.matchAll(O200K_TOKEN_SPLIT_REGEX)) {
      const piece = m[0];
      const room = max - total;
      // Short pieces: the cached count. Long ones merge once, which also finds where the first
      // `room` tokens end; a token is at most maxTokenBytes bytes, so only that much of a longer
      // piece (which can be megabytes) is read at all.
      let head: { tokens: number; chars: number; whole: boolean } | undefined;
      if (piece.length <= CACHED_PIECE_MAX) {
        const n = this.countPiece(piece);
        if (n <= room) head = { tokens: n, chars: piece.length, whole: true };
      }
      head ??= this.pieceHead(piece.slice(0, room * this.maxTokenBytes + 1), room);
      if (head.tokens <= room && head.chars === piece.length) {
        total += head.tokens;
        end = m.index + piece.length;
        if (last.push(piece) > 1) lastStart += last.shift()?.length ?? 0;
        continue;
      }
      // Cut inside this piece, after its first `room` tokens.
      const kept = piece.slice(0, head.chars);
      if (kept.length > 0 && last.push(kept) > 2) lastStart += last.shift()?.length ?? 0;
      total += room;
      end = m.index + kept.length;
      exact = head.whole;
      break;
    }
    if (end === text.length) return { text, tokens: total };
    let cut = text.slice(0, end);
    // The pieces before the last two split as before. If those two split the same way in the
    // prefix too, its count is known; otherwise (rare) count it, and hold the bound anyway.
    const again = [...cut.slice(lastStart).matchAll(O200K_TOKEN_SPLIT_REGEX)].map((x) => x[0]);
    if (exact && again.length === last.length && again.every((x, i) => x === last[i])) {
      return { text: cut, tokens: total };
    }
    let tokens = this.count(cut);
    if (tokens > max) {
      cut = cut.slice(
        0,
        longestFit(cut, max, (x) => this.count(x)),
      );
      tokens = this.count(cut);
    }
    return { text: cut, tokens };
  }

  private countPiece(piece: string): number {
    const cached = this.cache.get(piece);
    if (cached !== undefined) return cached;
    if (this.scratch.length < piece.length * 3) this.scratch = new Uint8Array(piece.length * 3);
    const { written } = this.encoder.encodeInto(piece, this.scratch);
    // gpt-tokenizer looks a piece up whole by its string, which a lone surrogate never matches.
    const n =
      !LONE_SURROGATE.test(piece) && this.rank(this.scratch, 0, written) !== -1
        ? 1
        : this.merge(this.scratch, written);
    if (piece.length > CACHED_PIECE_MAX) return n;
    if (this.cache.size >= 4096) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(piece, n);
    return n;
  }

  /**
   * Byte-pair merge of `buf[0, len)`: the number of tokens it ends as; with `head`, also the byte
   * offset where its first `head.keep` tokens end.
   */
  private merge(buf: Uint8Array, len: number, head?: Head): number {
    return len > LINEAR_MERGE_MAX
      ? this.mergeHeap(buf, len, head)
      : this.mergeLinear(buf, len, head);
  }

  /**
   * The tokens of `piece`, and how many of its characters its first `keep` tokens cover (a
   * partial last character dropped). That head merges into exactly those tokens on its own:
   * no merge crossed its end, and the merges on either side do not change each other's order.
   */
  private pieceHead(
    piece: string,
    keep: number,
  ): { tokens: number; chars: number; whole: boolean } {
    if (this.scratch.length < piece.length * 3) this.scratch = new Uint8Array(piece.length * 3);
    const { written } = this.encoder.encodeInto(piece, this.scratch);
    const head: Head = { keep, bytes: 0 };
    const tokens = this.merge(this.scratch, written, head);
    let chars = 0;
    let used = 0;
    while (chars < piece.length) {
      const c = piece.codePointAt(chars) as number;
      const w = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (used + w > head.bytes) break;
      used += w;
      chars += c < 0x10000 ? 1 : 2;
    }
    // `whole`: the head ends on a character boundary, so it is exactly those `keep` tokens.
    return { tokens, chars, whole: used === head.bytes };
  }

  /**
   * The textbook merge: scan for the lowest-ranked pair, merge it, repeat. Quadratic in the
   * piece's length, and the fastest for the short pieces text is mostly made of.
   */
  mergeLinear(buf: Uint8Array, len: number, head?: Head): number {
    if (head !== undefined) head.bytes = Math.min(head.keep, len);
    if (len <= 1) return len;
    const starts: number[] = [];
    const ranks: number[] = [];
    const pairRank = (i: number) =>
      i + 2 < starts.length ? this.rank(buf, starts[i] as number, starts[i + 2] as number) : -1;
    for (let i = 0; i <= len; i++) starts.push(i);
    for (let i = 0; i < len; i++) ranks.push(i + 2 <= len ? this.rank(buf, i, i + 2) : -1);
    while (starts.length > 2) {
      let best = -1;
      let at = -1;
      for (let i = 0; i < ranks.length - 1; i++) {
        const r = ranks[i] as number;
        if (r !== -1 && (best === -1 || r < best)) {
          best = r;
          at = i;
        }
      }
      if (at === -1) break;
      starts.splice(at + 1, 1);
      ranks.splice(at, 1);
      ranks[at] = pairRank(at);
      if (at > 0) ranks[at - 1] = pairRank(at - 1);
    }
    if (head !== undefined) head.bytes = starts[head.keep] ?? len;
    return starts.length - 1;
  }

  /**
   * The same merges in the same order, in O(n log n): parts as a linked list over byte offsets (a
   * part is named by its first byte, so "leftmost" is "smallest name"), and a binary min-heap of
   * (rank, part) keys. A key is stale once its part is merged away or its pair changes; stale
   * keys are skipped when popped. A single piece can be a megabyte (one run of letters, say), so
   * the linear scan would take minutes on it.
   */
  mergeHeap(buf: Uint8Array, len: number, head?: Head): number {
    if (head !== undefined) head.bytes = Math.min(head.keep, len);
    if (len <= 1) return len;
    const next = new Int32Array(len);
    const prev = new Int32Array(len);
    const pair = new Int32Array(len);
    const dead = new Uint8Array(len);
    // Each merge pushes at most two keys; the initial pairs at most len.
    const heap = new Float64Array(3 * len);
    let size = 0;
    const push = (key: number) => {
      let i = size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if ((heap[parent] as number) <= key) break;
        heap[i] = heap[parent] as number;
        i = parent;
      }
      heap[i] = key;
    };
    const pop = (): number => {
      const top = heap[0] as number;
      const last = heap[--size] as number;
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= size) break;
        if (child + 1 < size && (heap[child + 1] as number) < (heap[child] as number)) child++;
        if ((heap[child] as number) >= last) break;
        heap[i] = heap[child] as number;
        i = child;
      }
      heap[i] = last;
      return top;
    };
    // The rank of part `i` merged with the part after it, or -1.
    const rankAt = (i: number): number => {
      const j = next[i] as number;
      if (j >= len) return -1;
      return this.rank(buf, i, next[j] as number);
    };
    const set = (i: number) => {
      const r = rankAt(i);
      pair[i] = r;
      if (r !== -1) push(r * KEY_SCALE + i);
    };
    for (let i = 0; i < len; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    for (let i = 0; i < len; i++) set(i);
    let parts = len;
    while (size > 0) {
      const key = pop();
      const i = key % KEY_SCALE;
      const r = (key - i) / KEY_SCALE;
      if (dead[i] === 1 || pair[i] !== r) continue;
      const j = next[i] as number;
      const after = next[j] as number;
      next[i] = after;
      if (after < len) prev[after] = i;
      dead[j] = 1;
      parts--;
      set(i);
      const before = prev[i] as number;
      if (before >= 0) set(before);
    }
    if (head !== undefined) {
      let at = 0;
      for (let k = 0; k < head.keep && at < len; k++) at = next[at] as number;
      head.bytes = at;
    }
    return parts;
  }
}

/** What {@link CompactBpe.pieceHead} asks of a merge: where its first `keep` tokens end. */
type Head = { keep: number; bytes: number };

/** Pieces up to this many bytes merge by linear scan; longer ones through the heap. */
const LINEAR_MERGE_MAX = 256;
/** Heap keys are rank × KEY_SCALE + part: exact in a double for ranks < 2^21 and parts < 2^32. */
const KEY_SCALE = 2 ** 32;
/** Longer pieces are not cached: they rarely repeat, and 4,096 of them could pin gigabytes. */
const CACHED_PIECE_MAX = 64;

/**
 * The longest prefix length of `s` whose count is at most `room` (binary search: a prefix never
 * has many more tokens than a longer one), never splitting a surrogate pair.
 */
function longestFit(s: string, room: number, count: (s: string) => number): number {
  const safe = (n: number) => {
    const c = s.charCodeAt(n - 1);
    return n > 0 && n < s.length && c >= 0xd800 && c <= 0xdbff ? n - 1 : n;
  };
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = safe(Math.ceil((lo + hi) / 2));
    if (mid <= lo) break;
    if (count(s.slice(0, mid)) <= room) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** In a `u` regex a surrogate only matches when it is unpaired. */
const LONE_SURROGATE = /\p{Cs}/u;

/** FNV-1a over bytes [start, end). */
function hash(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= buf[i] as number;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

let bpe: CompactBpe | null = null;

function o200k(): CompactBpe {
  if (!bpe) {
    const file = createRequire(import.meta.url).resolve("gpt-tokenizer/data/o200k_base.tiktoken");
    bpe = new CompactBpe(readFileSync(file, "latin1"));
  }
  return bpe;
}

/** BPE tokens (o200k_base) of a text. Special-token strings (`<|im_start|>`…) count as text. */
export function countTokens(text: string): number {
  return text.length === 0 ? 0 : o200k().count(text);
}

/**
 * `text` cut to at most `max` BPE tokens (o200k_base), its count, and whether it was cut: what the
 * router keeps of a miner's answer for a task's max_tokens.
 */
export function truncateToTokens(
  text: string,
  max: number,
): { text: string; tokens: number; cut: boolean } {
  if (text.length === 0) return { text, tokens: 0, cut: false };
  const kept = o200k().truncate(text, Math.max(0, max));
  if (kept.text.length === text.length) return { ...kept, cut: false };
  // The kept prefix is counted again on its own: cut between two tokens of one pre-tokenizer
  // run (the two spaces of "  123"), the prefix can merge into fewer tokens than it had in the
  // whole text, and its count must be what any later count of that text says.
  return { text: kept.text, tokens: countTokens(kept.text), cut: true };
}

/** For tests: [linear, heap] merge counts of one piece's bytes; the two must always agree. */
export function mergeCounts(piece: string): [number, number] {
  return o200k().mergeBoth(piece);
}

/** Load the table now (about 0.1 s) instead of on the first prompt that needs a count. */
export function loadTokenizer(): void {
  o200k();
}

/** Hex sha256 of a UTF-8 string: the precommit of a result. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
