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

export function startRedisServer(options?: { args?: string[]; readyTimeoutMs?: number }): Promise<RedisServer>

/** A Redis Cluster of masters started by the tests. */
export interface RedisCluster {
  readonly nodes: readonly RedisServer[]
  stop(): Promise<void>
}

export function startRedisCluster(options?: { masters?: number; readyTimeoutMs?: number }): Promise<RedisCluster>
