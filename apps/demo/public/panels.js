// The hedging panel and the dependency panel (checkout depends on payments), updated every tick.
import { $, h, post, time, toast } from './dom.js'

const ms = (v) => (v == null ? '—' : `${Math.round(v)} ms`)
const pct = (v) => `${Math.round(v * 100)} %`

/** Controls the user is dragging: ticks must not move them under the pointer. */
let draggingSlow = false

// ── hedging ────────────────────────────────────────────────────────────────────────────────

export function renderHedging(s) {
  const labs = s.workers.filter((w) => w.hedging)
  if (labs.length === 0) return $('hedge-workers').replaceChildren(h('tr', {}, h('td', { colspan: '6', class: 'empty', text: 'Hedging panel not available (see the startup output).' })))
  const first = labs[0].hedging
  $('hedge-config').textContent = `hedge: { delay: ${first.hedge.delay}, attempts: ${first.hedge.attempts} } · timeout ${first.timeoutMs} ms`
  const { slowRate, slowMs, baseMs } = first.upstream
  $('slow-rate-value').textContent = pct(slowRate)
  $('slow-ms-value').textContent = `${slowMs} ms (others ~${baseMs} ms)`
  if (!draggingSlow) $('slow-ms').value = slowMs
  for (const b of document.querySelectorAll('#tail-presets button')) b.classList.toggle('active', Number(b.dataset.slow) === slowRate)

  $('hedge-workers').replaceChildren(
    ...labs.map(({ worker, hedging: { summary: t } }) =>
      h(
        'tr',
        { 'data-worker': worker, 'data-requests': t.requests, 'data-hedge-won': t.hedgeWon, 'data-aborted': t.aborted },
        h('td', { text: `worker ${worker}` }),
        h('td', { class: 'num with', 'data-p90': t.hedged.p90 ?? '', text: `${ms(t.hedged.p50)} / ${ms(t.hedged.p90)} / ${ms(t.hedged.p99)}` }),
        h('td', { class: 'num without', 'data-p90': t.unhedged.p90 ?? '', text: `${ms(t.unhedged.p50)} / ${ms(t.unhedged.p90)} / ${ms(t.unhedged.p99)}` }),
        h('td', { class: 'num', text: String(t.firstWon) }),
        h('td', { class: 'num', text: String(t.hedgeWon) }),
        h('td', { class: 'num', text: String(t.aborted) }),
      ),
    ),
  )

  const recent = labs.flatMap((w) => w.hedging.recent).sort((a, b) => b.at - a.at).slice(0, 12)
  if (recent.length === 0) return $('hedge-requests').replaceChildren(h('li', { class: 'empty', text: 'No requests yet: turn traffic on or press Run.' }))
  $('hedge-requests').replaceChildren(
    ...recent.map((r) =>
      h(
        'li',
        { 'data-winner': r.winner ?? 'none', class: r.winner > 1 ? 'hedge-won' : '' },
        h('span', { class: 'ev-time', text: time(r.at) }),
        h('span', { class: 'ev-w', text: `w${r.worker}` }),
        h('b', { text: r.winner === null ? `failed (${r.error})` : r.winner === 1 ? 'first attempt won' : `hedge #${r.winner} won` }),
        h('span', { text: ` ${ms(r.hedgedMs)}` }),
        h('span', { class: 'dim', text: ` · alone ${r.unhedgedTimedOut ? 'would time out' : ms(r.unhedgedMs)} · ${r.attempts} started, ${r.aborted} aborted` }),
      ),
    ),
  )
}

function bindHedging() {
  for (const b of document.querySelectorAll('#tail-presets button')) {
    b.addEventListener('click', () => post('/api/hedging', { slowRate: Number(b.dataset.slow) }).catch(() => {}))
  }
  const slow = $('slow-ms')
  slow.addEventListener('input', () => (draggingSlow = true))
  slow.addEventListener('change', () => post('/api/hedging', { slowMs: Number(slow.value) }).catch(() => {}).finally(() => (draggingSlow = false)))
  $('hedge-run').addEventListener('click', () =>
    post('/api/hedging/run', { requests: 20 })
      .then((r) => toast(`Worker ${r.worker}: 20 hedged requests, ${r.records.filter((x) => x.winner > 1).length} won by a hedge`))
      .catch(() => {}),
  )
}

// ── dependency ─────────────────────────────────────────────────────────────────────────────

function outcomeOf(last) {
  if (!last) return ['none', 'no call yet']
  if (last.ok) return ['ok', 'served']
  if (last.error.code === 'ERR_CIRCUIT_DEPENDENCY') return ['dependency', `rejected: ${last.error.name} (${last.error.code}), dependency '${last.error.dependency}'`]
  return ['other', `rejected: ${last.error.name}${last.error.code ? ` (${last.error.code})` : ''}`]
}

const pill = (state) => h('span', { class: `st ${state}`, text: state.replace('_', '-') })

export function renderDependency(s) {
  const labs = s.workers.filter((w) => w.dependency && !w.dependency.error)
  if (labs.length === 0) return $('dep-workers').replaceChildren(h('p', { class: 'empty', text: 'Dependency panel not available (see the startup output).' }))
  const { label, scope } = labs[0].dependency.storage
  $('dep-storage').textContent = `on ${label} · ${scope === 'process' ? 'per worker (no shared storage)' : 'shared by every worker'}`
  $('dep-workers').replaceChildren(
    ...labs.map(({ worker, dependency: d }) => {
      const [outcome, text] = outcomeOf(d.checkout.last)
      return h(
        'div',
        { class: 'dep-worker', 'data-worker': worker, 'data-payments': d.payments.state, 'data-outcome': outcome },
        h('div', { class: 'worker', text: `worker ${worker}` }),
        h('div', { class: 'dep-line' }, h('b', { text: 'payments' }), ' ', pill(d.payments.state), h('span', { class: 'dim', text: ` epoch ${d.payments.epoch}` })),
        h('div', { class: 'dep-line' }, h('b', { text: 'checkout' }), ' ', pill(d.checkout.state), ' ', h('span', { class: `outcome ${outcome}`, text: text })),
        h('div', { class: 'dim calls', text: `checkout calls: ${d.checkout.calls.ok} served · ${d.checkout.calls.dependency} dependency-rejected · ${d.checkout.calls.other} other` }),
      )
    }),
  )
}

function bindDependency() {
  for (const b of document.querySelectorAll('#payments-actions button')) {
    b.addEventListener('click', () =>
      post(`/api/dependency/payments/${b.dataset.action}`)
        .then((r) => toast(`payments ${b.dataset.action} on worker ${r.worker}: now ${r.state.replace('_', '-')}`))
        .catch(() => {}),
    )
  }
  $('checkout-call').addEventListener('click', () =>
    post('/api/dependency/checkout/call')
      .then((r) => toast(r.results.map((x) => `worker ${x.worker}: ${x.ok ? outcomeOf(x.value)[1] : x.error}`).join(' · ')))
      .catch(() => {}),
  )
}

export function renderPanels(s) {
  renderHedging(s)
  renderDependency(s)
}

export function bindPanels() {
  bindHedging()
  bindDependency()
}
