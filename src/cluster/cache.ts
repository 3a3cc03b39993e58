import { CustomObjectsApi, makeInformer, type Informer, type KubeConfig, type KubernetesListObject, type KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { LIFECYCLE_KINDS, type LifecycleKind } from "../lifecycle/kinds.js";
import type { ClusterObject, ClusterView } from "../rules/types.js";
import { listPath, objectKey, toClusterObject } from "./objects.js";

export interface CacheObserver {
  synced(kind: string, objects: number): void;
  lost(kind: string): void;
  changed(kind: string, objects: number): void;
}

export interface ClusterCacheOptions {
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly observer?: CacheObserver;
}

interface KindState {
  synced: boolean;
  objects: Map<string, ClusterObject>;
  list: readonly ClusterObject[] | undefined;
  informer: Informer<KubernetesObject> | undefined;
  backoffMs: number;
  restart: NodeJS.Timeout | undefined;
}

/**
 * An informer-backed cache of every IstioLifecycleManager and GatewayLifecycleManager. Reviews
 * read it through `view` and never wait for, or call, the API server.
 *
 * client-node's informer re-watches when a stream ends and relists on 410 Gone, but on any other
 * error it stops for good. Then this cache marks the kind unsynced (so LG5xx stop), and starts a
 * fresh informer after an exponential backoff; the fresh one lists everything again, so the data
 * is current before the kind counts as synced again.
 */
export class ClusterCache {
  private readonly states = new Map<LifecycleKind, KindState>();
  private readonly api: CustomObjectsApi;
  private stopped = false;
  readonly view: ClusterView;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly log: Logger,
    private readonly options: ClusterCacheOptions = {},
  ) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
    for (const kind of LIFECYCLE_KINDS) {
      this.states.set(kind, { synced: false, objects: new Map(), list: undefined, informer: undefined, backoffMs: options.initialBackoffMs ?? 1000, restart: undefined });
    }
    const states = this.states;
    this.view = {
      get synced() {
        return [...states.values()].every((s) => s.synced);
      },
      objects(kind) {
        const state = states.get(kind);
        if (!state) return [];
        state.list ??= [...state.objects.values()];
        return state.list;
      },
    };
  }

  start(): void {
    this.stopped = false;
    for (const kind of LIFECYCLE_KINDS) this.startInformer(kind);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(
      [...this.states.values()].map(async (state) => {
        if (state.restart) clearTimeout(state.restart);
        await state.informer?.stop();
      }),
    );
  }

  private state(kind: LifecycleKind): KindState {
    return this.states.get(kind) as KindState;
  }

  private startInformer(kind: LifecycleKind): void {
    const state = this.state(kind);
    const fresh = new Map<string, ClusterObject>();
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const result = (await this.api.listClusterCustomObject({ group: kind.group, version: kind.version, plural: kind.resource })) as KubernetesListObject<KubernetesObject>;
      // The informer adds the listed items right after this resolves; count the kind as synced
      // once they are in.
      setImmediate(() => this.onListed(kind, informer, fresh, result.metadata?.resourceVersion));
      return result;
    };
    const informer = makeInformer<KubernetesObject>(this.kubeConfig, listPath(kind), list);
    const changed = (): void => {
      if (state.informer !== informer) return;
      state.list = undefined;
      if (state.synced) this.options.observer?.changed(kind.kind, fresh.size);
    };
    informer.on("add", (o) => {
      fresh.set(objectKey(o), toClusterObject(kind, o));
      changed();
    });
    informer.on("update", (o) => {
      fresh.set(objectKey(o), toClusterObject(kind, o));
      changed();
    });
    informer.on("delete", (o) => {
      fresh.delete(objectKey(o));
      changed();
    });
    informer.on("error", (error) => this.onError(kind, informer, error));
    state.informer = informer;
    informer.start().catch((error: unknown) => this.onError(kind, informer, error));
  }

  private onListed(kind: LifecycleKind, informer: Informer<KubernetesObject>, fresh: Map<string, ClusterObject>, resourceVersion: string | undefined): void {
    const state = this.state(kind);
    if (state.informer !== informer || this.stopped) return;
    state.objects = fresh;
    state.list = undefined;
    const wasSynced = state.synced;
    state.synced = true;
    state.backoffMs = this.options.initialBackoffMs ?? 1000;
    if (!wasSynced) this.log.info({ kind: kind.kind, objects: fresh.size, resourceVersion }, "cluster cache synced");
    this.options.observer?.synced(kind.kind, fresh.size);
  }

  private onError(kind: LifecycleKind, informer: Informer<KubernetesObject>, error: unknown): void {
    const state = this.state(kind);
    if (state.informer !== informer || this.stopped) return;
    state.synced = false;
    state.informer = undefined;
    void informer.stop();
    this.options.observer?.lost(kind.kind);
    const delay = Math.round(state.backoffMs * (0.8 + Math.random() * 0.4));
    state.backoffMs = Math.min(state.backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
    this.log.warn({ kind: kind.kind, err: error instanceof Error ? { message: error.message } : error, retryInMs: delay }, "cluster watch failed; cross-object rules are off until it lists again");
    state.restart = setTimeout(() => {
      state.restart = undefined;
      if (!this.stopped) this.startInformer(kind);
    }, delay);
    state.restart.unref();
  }
}
