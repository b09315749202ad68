// The dashboard: one EventSource for everything, DOM updated in place (never rebuilt), so
// buttons stay clickable while the view refreshes several times a second.

const $ = (id) => document.getElementById(id)
const STRIP = 75 // ticks of history per tile (≈ 30 s at 400 ms)
const STATE_LABEL = { closed: 'CLOSED', open: 'OPEN', half_open: 'HALF-OPEN' }

const view = {
  state: null,
  history: new Map(), // `${circuit}/${worker}` → states
  last: new Map(), // `${circuit}/${worker}` → last state (for the flash)
  events: [], // newest last
  spans: [], // span events, newest last
  editing: new Set(), // controls the user is dragging: ticks must not move them
}

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') el.className = v
    else if (k === 'text') el.textContent = v
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v)
    else if (v !== undefined && v !== null) el.setAttribute(k, v)
  }
  for (const child of children.flat()) if (child != null) el.append(child)
  return el
}

function time(ms) {
  const d = new Date(ms)
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`
}

let toastTimer
function toast(message, error = false) {
  const el = $('toast')
  el.textContent = message
  el.className = `toast show${error ? ' error' : ''}`
  clearTimeout(toastTimer)
  toastTimer = setTimeout(() => (el.className = 'toast'), error ? 5000 : 2200)
}

async function post(path, body) {
  try {
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? '' : JSON.stringify(body) })
    const data = await res.json().catch(() => ({}))
    if (!res.ok) throw new Error(data.error ?? `HTTP ${res.status}`)
    return data
  } catch (error) {
    toast(error.message, true)
    throw error
  }
}

// ── header ─────────────────────────────────────────────────────────────────────────────────

function renderMeta(s) {
  const wiring = Object.values(s.wiring ?? {})[0] ?? { wired: [], skipped: [] }
  const backends = [...new Set((s.circuits ?? []).map((c) => c.storage))]
  const chips = [
    h('span', { class: 'chip' }, h('b', { text: String(s.workers.length) }), s.mode === 'cluster' ? ' workers · node cluster' : ' worker · single process'),
    ...backends.map((b) => h('span', { class: 'chip' }, b)),
    ...wiring.skipped.map((x) => h('span', { class: 'chip warn', title: x.reason }, `${x.what}: skipped`)),
    h('span', { class: `chip${s.otlp ? '' : ' off'}` }, s.otlp ? 'OTLP export on' : 'OTLP off'),
  ]
  $('meta').replaceChildren(...chips)
}

// ── controls ───────────────────────────────────────────────────────────────────────────────

function renderSettings(settings) {
  if (!settings) return
  const { upstream, traffic, primaryMode } = settings
  if (!view.editing.has('failure')) $('failure-rate').value = Math.round(upstream.failureRate * 100)
  $('failure-value').textContent = `${Math.round(upstream.failureRate * 100)} %`
  if (!view.editing.has('latency')) $('latency').value = upstream.latencyMs
  $('latency-value').textContent = `${upstream.latencyMs} ms`
  for (const b of document.querySelectorAll('#failure-presets button')) b.classList.toggle('active', Number(b.dataset.failure) === upstream.failureRate)
  $('traffic-on').checked = traffic.enabled
  $('traffic-label').textContent = traffic.enabled ? 'on' : 'off'
  if (!view.editing.has('rate')) $('rate').value = Math.min(100, traffic.rate)
  $('rate-value').textContent = `${traffic.rate}/s`
  for (const b of document.querySelectorAll('#primary-mode button')) b.classList.toggle('active', b.dataset.mode === primaryMode)
}

function bindRange(id, key, send) {
  const el = $(id)
  el.addEventListener('input', () => view.editing.add(key))
  el.addEventListener('change', async () => {
    try {
      await send(Number(el.value))
    } finally {
      view.editing.delete(key)
    }
  })
}

function bindControls() {
  bindRange('failure-rate', 'failure', (v) => post('/api/upstream', { failureRate: v / 100 }))
  bindRange('latency', 'latency', (v) => post('/api/upstream', { latencyMs: v }))
  bindRange('rate', 'rate', (v) => post('/api/traffic', { rate: v }))
  for (const b of document.querySelectorAll('#failure-presets button')) {
    b.addEventListener('click', () => post('/api/upstream', { failureRate: Number(b.dataset.failure) }).catch(() => {}))
  }
  $('traffic-on').addEventListener('change', (e) => post('/api/traffic', { enabled: e.target.checked }).catch(() => {}))
  for (const b of document.querySelectorAll('#primary-mode button')) {
    b.addEventListener('click', () =>
      post('/api/storage/primary', { mode: b.dataset.mode })
        .then(() => toast(b.dataset.mode === 'ok' ? 'Primary storage healthy again: write-back follows' : `Primary storage now ${b.dataset.mode}s`))
        .catch(() => {}),
    )
  }
  $('import-button').addEventListener('click', () => $('import-file').click())
  $('import-file').addEventListener('change', async (e) => {
    const file = e.target.files?.[0]
    e.target.value = ''
    if (!file) return
    let body
    try {
      body = JSON.parse(await file.text())
    } catch {
      return toast(`${file.name} is not JSON`, true)
    }
    const res = await post('/api/snapshot', body).catch(() => null)
    if (res) toast(`Imported: ${res.results.map((r) => `worker ${r.worker} restored ${r.restored.length}`).join(', ')}`)
  })
}

// ── circuits matrix ────────────────────────────────────────────────────────────────────────

function renderMatrix(s) {
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
  const before = view.last.get(key)
  if (before && before !== c.state) {
    tile.classList.remove('flash')
    void tile.offsetWidth // restart the animation
    tile.classList.add('flash')
  }
  view.last.set(key, c.state)
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
  const hist = view.history.get(key) ?? []
  hist.push(c.state)
  if (hist.length > STRIP) hist.shift()
  view.history.set(key, hist)
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

function renderChains(s) {
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

// ── feeds ──────────────────────────────────────────────────────────────────────────────────

/** The span event behind a transition or fallback: same worker, circuit and epoch/operation. */
function spanFor(e) {
  return view.spans.findLast((sp) => {
    if (sp.worker !== e.worker || sp.attributes['breaker.circuit'] !== e.circuit) return false
    if (e.kind === 'transition') return sp.event === 'breaker.transition' && sp.attributes['breaker.transition.epoch'] === e.epoch
    return sp.event === 'breaker.storage.fallback' && sp.attributes['breaker.storage.operation'] === e.operation && Math.abs(sp.at - e.at) < 1000
  })
}

function st(state) {
  return h('span', { class: `st ${state}`, text: state.replace('_', '-') })
}

function describe(e) {
  switch (e.kind) {
    case 'transition':
      return [h('b', { text: e.circuit }), ' ', st(e.from), ' → ', st(e.to), h('span', { class: 'dim', text: ` · epoch ${e.epoch}` })]
    case 'fallback':
      return [h('b', { text: e.backend }), ` failed ${e.operation}`, e.circuit ? ` (${e.circuit})` : '', ' → ', h('b', { text: e.nextBackend ?? 'nothing left' }), h('span', { class: 'dim', text: ` · ${e.errorClass}, ${e.durationMs} ms` })]
    case 'health':
      return [h('b', { text: e.backend }), e.healthy ? ' is healthy again' : ` marked unhealthy after ${e.consecutiveFailures} failures (skipped)`]
    case 'writeback':
      return [h('b', { text: e.backend }), ` is back: ${e.circuits} circuit${e.circuits === 1 ? '' : 's'} written back`]
    case 'storage_error':
      return [h('b', { text: e.circuit }), ` storage ${e.backend} failed ${e.operation}`]
    case 'control':
      return [h('b', { text: 'control' }), ` ${e.text}`]
    default:
      return [e.kind]
  }
}

/**
 * Keeps a list newest-first without re-inserting items it already shows (a re-inserted element
 * would replay its entry animation): new items go on top, changed ones are swapped in place.
 */
function syncList(list, items, build, stale = () => false, max = 60) {
  list.querySelector('.empty')?.remove()
  const shown = new Map([...list.children].map((li) => [li.dataset.id, li]))
  let anchor = list.firstChild
  for (const item of items.slice(-max)) {
    const existing = shown.get(String(item.id))
    if (existing && stale(existing, item)) existing.replaceWith(build(item))
    else if (!existing) list.insertBefore(build(item), anchor)
    anchor = list.firstChild
  }
  while (list.children.length > max) list.lastChild.remove()
}

function buildEvent(e) {
  const span = e.kind === 'transition' || e.kind === 'fallback' ? spanFor(e) : undefined
  return h(
    'li',
    { 'data-id': e.id, 'data-kind': e.kind, 'data-to': e.to, 'data-span': span ? '1' : undefined },
    h('div', { class: 'ev-top' }, h('span', { class: 'ev-time', text: time(e.at) }), e.worker != null ? h('span', { class: 'ev-w', text: `w${e.worker}` }) : null, h('span', { class: 'ev-text' }, describe(e))),
    span ? h('div', { class: 'ev-span', text: `span ${span.span} ${span.traceId.slice(0, 8)}… · event ${span.event}` }) : null,
  )
}

function buildSpan(sp) {
  return h(
    'li',
    { 'data-id': sp.id, 'data-event': sp.event },
    h('div', { class: 'ev-top' }, h('span', { class: 'ev-time', text: time(sp.at) }), h('span', { class: 'ev-w', text: `w${sp.worker}` }), h('span', { class: 'ev-text' }, h('b', { text: sp.event }), ` on ${sp.span}`)),
    h(
      'div',
      { class: 'attrs' },
      Object.entries(sp.attributes)
        .filter(([k]) => k !== 'breaker.state')
        .map(([k, v]) => h('span', { text: `${k.replace('breaker.', '')}=${v}` })),
      h('span', { text: `trace=${sp.traceId.slice(0, 12)}` }),
    ),
  )
}

function renderFeed() {
  const feed = $('feed')
  const items = view.events.filter((e) => e.kind !== 'span')
  if (items.length === 0) return feed.replaceChildren(h('li', { class: 'empty', text: 'Nothing yet: raise the failure rate.' }))
  // A transition or fallback whose span event arrived after it is redrawn with the span line.
  syncList(feed, items, buildEvent, (li, e) => !li.dataset.span && (e.kind === 'transition' || e.kind === 'fallback') && spanFor(e) !== undefined)
}

function renderSpans() {
  const list = $('spans')
  if (view.spans.length === 0) return list.replaceChildren(h('li', { class: 'empty', text: 'No span events yet.' }))
  syncList(list, view.spans, buildSpan, undefined, 40)
}

function addEvents(list) {
  for (const e of list) {
    if (e.kind === 'span') {
      view.spans.push(e)
      if (view.spans.length > 300) view.spans.shift()
    } else {
      view.events.push(e)
      if (view.events.length > 300) view.events.shift()
    }
  }
  renderFeed()
  renderSpans()
}

// ── stream ─────────────────────────────────────────────────────────────────────────────────

function connect() {
  const source = new EventSource('/api/events')
  const conn = $('conn')
  source.addEventListener('open', () => {
    conn.dataset.state = 'live'
    $('conn-text').textContent = 'live'
  })
  source.addEventListener('error', () => {
    conn.dataset.state = 'down'
    $('conn-text').textContent = 'reconnecting…'
  })
  source.addEventListener('state', (m) => {
    const s = JSON.parse(m.data)
    view.state = s
    renderMeta(s)
    renderSettings(s.settings)
    renderMatrix(s)
    renderChains(s)
    document.body.dataset.ready = 'true'
  })
  source.addEventListener('events', (m) => {
    view.events = []
    view.spans = []
    $('feed').replaceChildren()
    $('spans').replaceChildren()
    addEvents(JSON.parse(m.data))
  })
  source.addEventListener('event', (m) => addEvents([JSON.parse(m.data)]))
}

bindControls()
renderFeed()
renderSpans()
connect()
