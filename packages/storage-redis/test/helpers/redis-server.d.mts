/** A redis-server started by the tests, listening on 127.0.0.1. */
export interface RedisServer {
  readonly host: string
  readonly port: number
  readonly url: string
  readonly pid: number | undefined
  /** SIGSTOP: the server keeps its sockets open but answers nothing. */
  pause(): void
  /** SIGCONT after `pause`. */
  resume(): void
  /** SIGKILL, resolving once it is gone. */
  kill(): Promise<void>
  /** SIGTERM (SIGKILL after 3 s), resolving once it is gone. */
  stop(): Promise<void>
}

export function startRedisServer(options?: { args?: string[]; readyTimeoutMs?: number; sentinelConf?: string }): Promise<RedisServer>

/** A Redis Cluster of masters started by the tests. */
export interface RedisCluster {
  readonly nodes: readonly RedisServer[]
  stop(): Promise<void>
}

export function startRedisCluster(options?: {
  masters?: number
  /** Replicas per master (default 0). */
  replicas?: number
  /** cluster-node-timeout (ms, default 2 000): how long before a silent master is failed over. */
  nodeTimeout?: number
  readyTimeoutMs?: number
}): Promise<RedisCluster>

/** A master with replicas and Sentinels started by the tests. */
export interface RedisSentinelSet {
  /** The name Sentinels monitor the master as. */
  readonly name: string
  /** The master at start (it may be killed and replaced by a replica). */
  readonly master: RedisServer
  readonly replicas: readonly RedisServer[]
  readonly sentinels: readonly RedisServer[]
  stop(): Promise<void>
}

export function startSentinel(options?: {
  name?: string
  replicas?: number
  sentinels?: number
  /** down-after-milliseconds (default 1 000). */
  downAfter?: number
  readyTimeoutMs?: number
}): Promise<RedisSentinelSet>
