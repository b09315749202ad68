// Starts a private redis-server on a free loopback port for one test file (or a bench run).
// Shared by @breaker/storage-redis and @breaker/storage-keyv tests and by bench/storage-redis.bench.js,
// so it is plain ESM. It never touches a Redis it did not start.
import { spawn } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'

const live = new Set()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function launch(port, extraArgs, readyTimeoutMs, sentinelConf) {
  return new Promise((resolve, reject) => {
    const args = sentinelConf
      ? [sentinelConf, '--sentinel', '--port', String(port), '--bind', '127.0.0.1']
      : ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp', ...extraArgs]
    const child = spawn(process.env.REDIS_SERVER_BIN ?? 'redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`redis-server did not start within ${readyTimeoutMs} ms:\n${output}`))
    }, readyTimeoutMs)
    const onData = (chunk) => {
      output += chunk
      if (output.includes(sentinelConf ? 'Sentinel ID is' : 'Ready to accept connections')) {
        clearTimeout(timer)
        child.stdout.off('data', onData)
        child.stdout.resume()
        child.stderr.resume()
        resolve(child)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (chunk) => (output += chunk))
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(new Error(`cannot run redis-server (is it installed?): ${error.message}`))
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`))
    })
  })
}

/**
 * Starts redis-server on a free 127.0.0.1 port. Retries with another port when the one picked
 * was taken in between.
 * @returns {Promise<import('./redis-server.d.mts').RedisServer>}
 */
export async function startRedisServer({ args = [], readyTimeoutMs = 5_000, sentinelConf } = {}) {
  let lastError
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    let child
    try {
      child = await launch(port, args, readyTimeoutMs, sentinelConf)
    } catch (error) {
      lastError = error
      continue
    }
    live.add(child)
    let exited = child.exitCode !== null || child.signalCode !== null
    const exit = new Promise((resolve) =>
      child.once('exit', () => {
        exited = true
        live.delete(child)
        resolve()
      }),
    )
    const signal = (name) => {
      if (!exited) child.kill(name)
    }
    return {
      host: '127.0.0.1',
      port,
      url: `redis://127.0.0.1:${port}`,
      pid: child.pid,
      pause: () => signal('SIGSTOP'),
      resume: () => signal('SIGCONT'),
      kill: async () => {
        signal('SIGCONT')
        signal('SIGKILL')
        await exit
      },
      stop: async () => {
        signal('SIGCONT')
        signal('SIGTERM')
        const timer = setTimeout(() => signal('SIGKILL'), 3_000)
        await exit
        clearTimeout(timer)
      },
    }
  }
  throw lastError
}

/**
 * Starts a Redis Cluster of `masters` masters (no replicas) on free loopback ports and waits until
 * it reports cluster_state:ok. Each node is a {@link startRedisServer} server.
 */
export async function startRedisCluster({ masters = 3, replicas = 0, nodeTimeout = 2_000, readyTimeoutMs = 15_000 } = {}) {
  const nodes = []
  const files = []
  const cleanUp = () => Promise.all(files.map((file) => rm(file, { force: true })))
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const tag = `breaker-test-${process.pid}-${Date.now()}-${i}`
      files.push(`/tmp/${tag}.nodes.conf`)
      // The bus port defaults to port + 10 000, which overflows for ephemeral ports above 55 535.
      const busPort = await freePort()
      const args = ['--cluster-enabled', 'yes', '--cluster-config-file', `${tag}.nodes.conf`, '--cluster-port', String(busPort)]
      args.push('--cluster-node-timeout', String(nodeTimeout))
      nodes.push(await startRedisServer({ args }))
    }
    const create = spawn(
      process.env.REDIS_CLI_BIN ?? 'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    create.stdout.on('data', (chunk) => (output += chunk))
    create.stderr.on('data', (chunk) => (output += chunk))
    const code = await new Promise((resolve) => create.once('exit', resolve))
    if (code !== 0) throw new Error(`redis-cli --cluster create failed (${code}):\n${output}`)
    const deadline = Date.now() + readyTimeoutMs
    for (;;) {
      const states = await Promise.all(nodes.map((n) => clusterState(n.port)))
      // A replica must also be in sync with its master, or it cannot take over when the master dies.
      const links = replicas > 0 ? await Promise.all(nodes.map((n) => replicaLink(n.port))) : []
      if (states.every((s) => s === 'ok') && links.every((l) => l !== 'down')) break
      if (Date.now() > deadline) throw new Error(`cluster not ok within ${readyTimeoutMs} ms: ${states.join(', ')}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return { nodes, stop: () => Promise.all(nodes.map((n) => n.stop())).then(cleanUp).then(() => {}) }
  } catch (error) {
    await Promise.all(nodes.map((n) => n.kill()))
    await cleanUp()
    throw error
  }
}

function cli(port, ...args) {
  return new Promise((resolve) => {
    const child = spawn(process.env.REDIS_CLI_BIN ?? 'redis-cli', ['-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'ignore'] })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.once('exit', () => resolve(output))
  })
}

/** 'master' for a master, else the replica's master_link_status ('up' / 'down'). */
async function replicaLink(port) {
  const info = await cli(port, 'info', 'replication')
  if (/role:master/.test(info)) return 'master'
  return /master_link_status:(\w+)/.exec(info)?.[1] ?? 'down'
}

/**
 * Starts a master, `replicas` replicas and `sentinels` Sentinels monitoring it as `name`
 * (quorum 1, down after `downAfter` ms), on free loopback ports; waits until every replica is
 * in sync and every Sentinel knows them all.
 */
export async function startSentinel({ name = 'breaker', replicas = 1, sentinels = 1, downAfter = 1_000, readyTimeoutMs = 15_000 } = {}) {
  const servers = []
  const files = []
  const cleanUp = () => Promise.all(files.map((file) => rm(file, { force: true })))
  try {
    const master = await startRedisServer()
    servers.push(master)
    const replicaServers = []
    for (let i = 0; i < replicas; i++) {
      const replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(master.port)] })
      servers.push(replica)
      replicaServers.push(replica)
    }
    const sentinelServers = []
    for (let i = 0; i < sentinels; i++) {
      const conf = `/tmp/breaker-sentinel-${process.pid}-${Date.now()}-${i}.conf`
      files.push(conf)
      await writeFile(
        conf,
        [
          `sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
          `sentinel down-after-milliseconds ${name} ${downAfter}`,
          `sentinel failover-timeout ${name} 3000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      )
      const sentinel = await startRedisServer({ sentinelConf: conf })
      servers.push(sentinel)
      sentinelServers.push(sentinel)
    }
    const deadline = Date.now() + readyTimeoutMs
    for (;;) {
      const links = await Promise.all(replicaServers.map((r) => replicaLink(r.port)))
      const known = await Promise.all(sentinelServers.map((s) => cli(s.port, 'sentinel', 'replicas', name)))
      if (links.every((l) => l === 'up') && known.every((k) => (k.match(/^name$/gm) ?? []).length >= replicas)) break
      if (Date.now() > deadline) throw new Error(`sentinel set-up not ready within ${readyTimeoutMs} ms: ${links.join(', ')}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return {
      name,
      master,
      replicas: replicaServers,
      sentinels: sentinelServers,
      stop: () => Promise.all(servers.map((s) => s.stop())).then(cleanUp).then(() => {}),
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.kill()))
    await cleanUp()
    throw error
  }
}

function clusterState(port) {
  return new Promise((resolve) => {
    const cli = spawn(process.env.REDIS_CLI_BIN ?? 'redis-cli', ['-p', String(port), 'cluster', 'info'], { stdio: ['ignore', 'pipe', 'ignore'] })
    let output = ''
    cli.stdout.on('data', (chunk) => (output += chunk))
    cli.once('exit', () => resolve(/cluster_state:(\w+)/.exec(output)?.[1] ?? 'unknown'))
  })
}
