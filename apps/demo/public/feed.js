// The event feed (transitions, fallbacks, health, write-backs, controls) and the span events.
import { $, h, time } from './dom.js'

const events = [] // newest last
const spans = [] // span events, newest last

// ── feeds ──────────────────────────────────────────────────────────────────────────────────

/** The span event behind a transition or fallback: same worker, circuit and epoch/operation. */
function spanFor(e) {
  return spans.findLast((sp) => {
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

export function renderFeed() {
  const feed = $('feed')
  const items = events.filter((e) => e.kind !== 'span')
  if (items.length === 0) return feed.replaceChildren(h('li', { class: 'empty', text: 'Nothing yet: raise the failure rate.' }))
  // A transition or fallback whose span event arrived after it is redrawn with the span line.
  syncList(feed, items, buildEvent, (li, e) => !li.dataset.span && (e.kind === 'transition' || e.kind === 'fallback') && spanFor(e) !== undefined)
}

export function renderSpans() {
  const list = $('spans')
  if (spans.length === 0) return list.replaceChildren(h('li', { class: 'empty', text: 'No span events yet.' }))
  syncList(list, spans, buildSpan, undefined, 40)
}

export function addEvents(list) {
  for (const e of list) {
    if (e.kind === 'span') {
      spans.push(e)
      if (spans.length > 300) spans.shift()
    } else {
      events.push(e)
      if (events.length > 300) events.shift()
    }
  }
  renderFeed()
  renderSpans()
}


/** Forgets every event (a reconnected stream sends the recent ones again). */
export function resetEvents() {
  events.length = 0
  spans.length = 0
  $('feed').replaceChildren()
  $('spans').replaceChildren()
}
