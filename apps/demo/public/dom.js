// Small DOM and HTTP helpers shared by the dashboard modules.

export const $ = (id) => document.getElementById(id)

export function h(tag, attrs = {}, ...children) {
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

export function time(ms) {
  const d = new Date(ms)
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`
}

let toastTimer
export function toast(message, error = false) {
  const el = $('toast')
  el.textContent = message
  el.className = `toast show${error ? ' error' : ''}`
  clearTimeout(toastTimer)
  toastTimer = setTimeout(() => (el.className = 'toast'), error ? 5000 : 2200)
}

export async function post(path, body) {
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
