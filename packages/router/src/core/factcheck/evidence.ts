/** One piece of realtime evidence. */
export interface EvidenceSource {
  title: string;
  url: string;
  snippet: string;
}

/** Where realtime factcheck gets its evidence (web search); pluggable. */
export interface EvidenceProvider {
  readonly name: string;
  search(statement: string, signal?: AbortSignal): Promise<EvidenceSource[]>;
}

/** Tavily search (`TAVILY_API_KEY`, `TAVILY_API_URL`), or any server answering its shape. */
export class TavilyEvidenceProvider implements EvidenceProvider {
  readonly name = "tavily";

  constructor(
    private readonly opts: {
      apiKey: string;
      url?: string;
      maxResults?: number;
      timeoutMs?: number;
    },
  ) {}

  async search(statement: string, signal?: AbortSignal): Promise<EvidenceSource[]> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 15_000);
    const res = await fetch(this.opts.url ?? "https://api.tavily.com/search", {
      method: "POST",
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      headers: {
        "Content-Type": "application/json",
        Authorization: `Bearer ${this.opts.apiKey}`,
      },
      body: JSON.stringify({
        query: statement.slice(0, 400),
        max_results: this.opts.maxResults ?? 5,
        search_depth: "basic",
      }),
    });
    if (!res.ok) throw new Error(`evidence search failed: HTTP ${res.status}`);
    const body = (await res.json()) as {
      results?: Array<{ title?: unknown; url?: unknown; content?: unknown }>;
    };
    return (body.results ?? [])
      .filter((r) => typeof r.url === "string")
      .map((r) => ({
        title: typeof r.title === "string" ? r.title.slice(0, 300) : "",
        url: String(r.url).slice(0, 2000),
        snippet: typeof r.content === "string" ? r.content.slice(0, 1500) : "",
      }));
  }
}

/** A fixed list of sources (tests and offline demos). */
export class StaticEvidenceProvider implements EvidenceProvider {
  readonly name = "static";
  constructor(private readonly sources: EvidenceSource[]) {}
  async search(): Promise<EvidenceSource[]> {
    return this.sources;
  }
}
