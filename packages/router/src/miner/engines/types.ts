/** What an engine is asked to generate. */
export interface EngineRequest {
  model: string;
  prompt: string;
  max_tokens: number;
  temperature?: number | undefined;
  top_p?: number | undefined;
  top_k?: number | undefined;
  presence_penalty?: number | undefined;
  frequency_penalty?: number | undefined;
  stop?: string[] | undefined;
}

/** What an engine produced. `usage` is optional: the router counts tokens when it is absent. */
export interface EngineResult {
  text: string;
  finish_reason: string;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

/** A model runtime a miner drives. */
export interface MinerEngine {
  /** Reported to the router (and in `/api/v1/miners`). */
  readonly name: string;
  /** Generate, calling `onToken` for each piece of text as it is produced. */
  generate(
    req: EngineRequest,
    onToken: (text: string) => void,
    signal: AbortSignal,
  ): Promise<EngineResult>;
}
