// The dashboard: one EventSource for everything, DOM updated in place (never rebuilt), so
// buttons stay clickable while the view refreshes several times a second.
import { $, h, post, toast } from './dom.js'
import { addEvents, renderFeed, renderSpans, resetEvents } from './feed.js'
import { renderChains, renderMatrix } from './matrix.js'
import { bindPanels, renderPanels } from './panels.js'

/** Controls the user is dragging: ticks must not move them under the pointer. */
const editing = new Set()

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
  if (!editing.has('failure')) $('failure-rate').value = Math.round(upstream.failureRate * 100)
  $('failure-value').textContent = `${Math.round(upstream.failureRate * 100)} %`
  if (!editing.has('latency')) $('latency').value = upstream.latencyMs
  $('latency-value').textContent = `${upstream.latencyMs} ms`
  for (const b of document.querySelectorAll('#failure-presets button')) b.classList.toggle('active', Number(b.dataset.failure) === upstream.failureRate)
  $('traffic-on').checked = traffic.enabled
  $('traffic-label').textContent = traffic.enabled ? 'on' : 'off'
  if (!editing.has('rate')) $('rate').value = Math.min(100, traffic.rate)
  $('rate-value').textContent = `${traffic.rate}/s`
  for (const b of document.querySelectorAll('#primary-mode button')) b.classList.toggle('active', b.dataset.mode === primaryMode)
}

function bindRange(id, key, send) {
  const el = $(id)
  el.addEventListener('input', () => editing.add(key))
  el.addEventListener('change', async () => {
    try {
      await send(Number(el.value))
    } finally {
      editing.delete(key)
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
    renderMeta(s)
    renderSettings(s.settings)
    renderMatrix(s)
    renderChains(s)
    renderPanels(s)
    document.body.dataset.ready = 'true'
  })
  source.addEventListener('events', (m) => {
    resetEvents()
    addEvents(JSON.parse(m.data))
  })
  source.addEventListener('event', (m) => addEvents([JSON.parse(m.data)]))
}

bindControls()
bindPanels()
renderFeed()
renderSpans()
connect()