import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Catalog } from "./catalog.js";
import type { KeyStore } from "./key-store.js";

export const INVALIDATION_CHANNEL = "portal:invalidate";

/**
 * Cache invalidation across gateway instances over Redis pub/sub. `KeyStore.invalidate` and
 * `Catalog.invalidate` publish through it (so every admin path that already invalidates locally
 * reaches all instances); the subscriber evicts locally. After a lost subscription (messages may
 * have been missed) every cached key and the catalog are dropped; the 10 s fresh window of the
 * key cache is the backstop when Redis is down altogether.
 */
export class InvalidationBus {
  private connectedOnce = false;

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly keys: KeyStore,
    private readonly catalog: Catalog,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.sub.on("message", (_channel: string, message: string) => this.onMessage(message));
    this.sub.on("ready", () => {
      if (this.connectedOnce) {
        this.logger.warn("invalidation channel reconnected; dropping cached keys and catalog");
        this.keys.evictAllLocal();
        this.catalog.evictLocal();
      }
      this.connectedOnce = true;
    });
    await this.sub.subscribe(INVALIDATION_CHANNEL);
    this.connectedOnce = true;
    this.keys.publish = (hash) => this.send(`key:${hash}`);
    this.catalog.publish = () => this.send("catalog");
  }

  /** Publish a key invalidation (also evicts locally). */
  invalidateKey(keyHash: string): void {
    this.keys.invalidate(keyHash);
  }

  async close(): Promise<void> {
    this.keys.publish = null;
    this.catalog.publish = null;
    this.sub.disconnect();
  }

  private send(message: string): void {
    this.pub.publish(INVALIDATION_CHANNEL, message).catch((err) => {
      this.logger.error({ err, message }, "failed to publish cache invalidation");
    });
  }

  private onMessage(message: string): void {
    if (message === "catalog") this.catalog.evictLocal();
    else if (message.startsWith("key:")) this.keys.evictLocal(message.slice(4));
  }
}
