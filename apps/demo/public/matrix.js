// The circuits × workers matrix and the fallback chain panel, updated in place every tick.
import { $, h, post, toast } from './dom.js'

const STRIP = 75 // ticks of history per tile (≈ 30 s at 400 ms)
const STATE_LABEL = { closed: 'CLOSED', open: 'OPEN', half_open: 'HALF-OPEN' }
const history = new Map() // `${circuit}/${worker}` → states, oldest first
const last = new Map() // `${circuit}/${worker}` → last state (for the flash)

// ── circuits matrix ────────────────────────────────────────────────────────────────────────

export function renderMatrix(s) {
  const matrix = $('matrix')
  const byName = new Map()
  for (const c of s.circuits) {
    if (!byName.has(c.name)) byName.set(c.name, [])
    byName.get(c.name).push(c)
  }
  const counts = { closed: 0, half_open: 0, open: 0 }
  for (const c of s.circuits) counts[c.state] = (counts[c.state] ?? 0) + 1
  $('summary').replaceChildren(
    ...['closed', 'half_open', 'open'].map((st) => h('span', { class: `pill ${st}`, 'data-testid': `count-${st}` }, `${counts[st]} ${st.replace('_', '-')}`)),
  )

  for (const [name, cells] of byName) {
    let row = matrix.querySelector(`.mrow[data-circuit="${name}"]`)
    if (!row) row = matrix.appendChild(buildRow(name, cells[0]))
    row.classList.toggle('all-open', cells.length > 0 && cells.every((c) => c.state === 'open'))
    const tiles = row.querySelector('.tiles')
    for (const c of cells) {
      let tile = tiles.querySelector(`.tile[data-worker="${c.worker}"]`)
      if (!tile) tile = tiles.appendChild(buildTile(c))
      updateTile(tile, c)
    }
    for (const tile of tiles.querySelectorAll('.tile')) {
      if (!cells.some((c) => String(c.worker) === tile.dataset.worker)) tile.remove()
    }
  }
  for (const row of matrix.querySelectorAll('.mrow')) if (!byName.has(row.dataset.circuit)) row.remove()
}

function buildRow(name, sample) {
  const act = (label, action, cls) =>
    h('button', {
      class: cls,
      'data-testid': `${action}-${name}`,
      onclick: () => post(`/api/circuits/${encodeURIComponent(name)}/${action}`).then(() => toast(`${label}: ${name}, every worker`)).catch(() => {}),
      text: label,
    })
  return h(
    'div',
    { class: 'mrow', 'data-circuit': name },
    h(
      'div',
      { class: 'mhead' },
      h('div', { class: 'cname', text: name }),
      h('div', { class: 'everywhere', text: 'open in every worker' }),
      h('div', { class: 'storage' }, h('span', { class: 'tag', text: sample.storage }), h('span', { class: `tag scope-${sample.scope}`, text: sample.scope === 'process' ? 'per worker' : `shared · ${sample.scope}` })),
    ),
    h('div', { class: 'tiles' }),
    h('div', { class: 'actions' }, act('Force open', 'force-open', 'danger'), act('Force close', 'force-close'), act('Hard reset', 'hard-reset')),
  )
}

function buildTile(c) {
  return h(
    'div',
    { class: 'tile', 'data-circuit': c.name, 'data-worker': c.worker, 'data-testid': `tile-${c.name}-${c.worker}` },
    h('div', { class: 'tile-top' }, h('span', { class: 'worker', text: `worker ${c.worker}` }), h('span', { class: 'state' })),
    h('div', { class: 'counts' }, h('span', { class: 'f' }), h('span', { class: 'epoch' }), h('span', { class: 's' })),
    h('div', { class: 'bar' }, h('i')),
    h('div', { class: 'strip' }),
    h('div', { class: 'calls' }),
    h('div', { class: 'err' }),
  )
}

function updateTile(tile, c) {
  const key = `${c.name}/${c.worker}`
  const before = last.get(key)
  if (before && before !== c.state) {
    tile.classList.remove('flash')
    void tile.offsetWidth // restart the animation
    tile.classList.add('flash')
  }
  last.set(key, c.state)
  tile.dataset.state = c.state
  tile.querySelector('.state').textContent = STATE_LABEL[c.state] ?? c.state
  const f = c.failures ?? 0
  const s = c.successes ?? 0
  tile.querySelector('.f').textContent = `✕ ${c.failures ?? '—'}`
  tile.querySelector('.s').textContent = `✓ ${c.successes ?? '—'}`
  tile.querySelector('.epoch').textContent = `epoch ${c.epoch ?? '—'}`
  tile.querySelector('.bar > i').style.width = `${f + s === 0 ? 0 : (100 * f) / (f + s)}%`
  tile.querySelector('.err').textContent = c.error ?? ''
  tile.querySelector('.calls').textContent = `calls: ${c.calls.ok} ok · ${c.calls.failed} failed · ${c.calls.rejected} rejected`
  tile.title = `pid ${c.pid} · ${c.storage} · calls ok ${c.calls.ok} / failed ${c.calls.failed} / rejected ${c.calls.rejected}`
  const hist = history.get(key) ?? []
  hist.push(c.state)
  if (hist.length > STRIP) hist.shift()
  history.set(key, hist)
  const strip = tile.querySelector('.strip')
  const padded = Array.from({ length: STRIP }, (_, i) => hist[i - (STRIP - hist.length)])
  if (strip.children.length !== STRIP) strip.replaceChildren(...padded.map(() => h('i')))
  padded.forEach((st, i) => (strip.children[i].className = st ?? ''))
}

/** One line under a chain backend: its health and its owed write-backs. */
function linkStatus(b) {
  const parts = []
  parts.push(b.healthy ? 'healthy' : 'skipped')
  if (b.owedWriteBacks) parts.push(`owed ${b.owedWriteBacks}`)
  else if (b.healthy && b.consecutiveFailures) parts.push(`${b.consecutiveFailures} fails`)
  return parts.join(' · ')
}

// ── chain ──────────────────────────────────────────────────────────────────────────────────

export function renderChains(s) {
  const chains = s.workers.filter((w) => w.chain?.length)
  $('chain-note').textContent = chains.length ? 'checkout circuit' : ''
  if (chains.length === 0) return $('chains').replaceChildren(h('p', { class: 'empty', text: 'No fallback chain wired.' }))
  $('primary-name').textContent = chains[0].chain[0]?.backend ? `(${chains[0].chain[0].backend})` : ''
  $('chains').replaceChildren(
    ...chains.map((w) =>
      h(
        'div',
        { class: 'chain', 'data-worker': w.worker },
        h('div', { class: 'worker', text: `worker ${w.worker}` }),
        h(
          'div',
          { class: 'links' },
          w.chain.flatMap((b, i) => [
            i > 0 ? h('span', { class: 'arrow', text: '→' }) : null,
            h(
              'div',
              { class: `link ${b.healthy ? 'healthy' : 'unhealthy'}${b.mode !== 'ok' ? ' broken' : ''}`, 'data-backend': b.backend, 'data-healthy': String(b.healthy) },
              h('b', {}, b.backend, b.mode !== 'ok' ? h('span', { class: 'mode', text: b.mode }) : null),
              h('small', { text: linkStatus(b) }),
            ),
          ]),
        ),
      ),
    ),
  )
}

