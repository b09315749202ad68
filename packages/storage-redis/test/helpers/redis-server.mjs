// Starts a private redis-server on a free loopback port for one test file (or a bench run).
// Shared by @breaker/storage-redis and @breaker/storage-keyv tests and by bench/storage-redis.bench.js,
// so it is plain ESM. It never touches a Redis it did not start.
import { spawn } from 'node:child_process'
import { rm } from 'node:fs/promises'
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

function launch(port, extraArgs, readyTimeoutMs) {
  return new Promise((resolve, reject) => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp', ...extraArgs]
    const child = spawn(process.env.REDIS_SERVER_BIN ?? 'redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`redis-server did not start within ${readyTimeoutMs} ms:\n${output}`))
    }, readyTimeoutMs)
    const onData = (chunk) => {
      output += chunk
      if (output.includes('Ready to accept connections')) {
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
export async function startRedisServer({ args = [], readyTimeoutMs = 5_000 } = {}) {
  let lastError
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    let child
    try {
      child = await launch(port, args, readyTimeoutMs)
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
export async function startRedisCluster({ masters = 3, readyTimeoutMs = 15_000 } = {}) {
  const nodes = []
  const files = []
  const cleanUp = () => Promise.all(files.map((file) => rm(file, { force: true })))
  try {
    for (let i = 0; i < masters; i++) {
      const tag = `breaker-test-${process.pid}-${Date.now()}-${i}`
      files.push(`/tmp/${tag}.nodes.conf`)
      // The bus port defaults to port + 10 000, which overflows for ephemeral ports above 55 535.
      const busPort = await freePort()
      const args = ['--cluster-enabled', 'yes', '--cluster-config-file', `${tag}.nodes.conf`, '--cluster-port', String(busPort)]
      nodes.push(await startRedisServer({ args }))
    }
    const create = spawn(
      process.env.REDIS_CLI_BIN ?? 'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'],
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
      if (states.every((s) => s === 'ok')) break
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

function clusterState(port) {
  return new Promise((resolve) => {
    const cli = spawn(process.env.REDIS_CLI_BIN ?? 'redis-cli', ['-p', String(port), 'cluster', 'info'], { stdio: ['ignore', 'pipe', 'ignore'] })
    let output = ''
    cli.stdout.on('data', (chunk) => (output += chunk))
    cli.once('exit', () => resolve(/cluster_state:(\w+)/.exec(output)?.[1] ?? 'unknown'))
  })
}
