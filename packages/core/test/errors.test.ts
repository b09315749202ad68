import { describe, expect, it } from 'vitest'
import {
  CircuitOpenError,
  StorageError,
  StorageTimeoutError,
  isBreakerError,
  isCircuitOpenError,
  isStorageError,
  isStorageTimeoutError,
} from '../src/index.js'

describe('errors', () => {
  it('guards recognise an error from another copy of core by its brand and code', () => {
    const foreign = Object.assign(new Error('x'), { code: 'ERR_CIRCUIT_OPEN', [Symbol.for('@breaker/core/error')]: true })
    expect(isCircuitOpenError(foreign)).toBe(true)
    expect(isBreakerError(foreign)).toBe(true)
  })

  it('guards refuse look-alikes without the brand', () => {
    expect(isCircuitOpenError(Object.assign(new Error('x'), { code: 'ERR_CIRCUIT_OPEN' }))).toBe(false)
    expect(isBreakerError(null)).toBe(false)
    expect(isBreakerError('ERR_CIRCUIT_OPEN')).toBe(false)
  })

  it('a StorageTimeoutError is also a StorageError', () => {
    const error = new StorageTimeoutError('redis', 'getStatus', 5, 'payments')
    expect(isStorageError(error)).toBe(true)
    expect(isStorageTimeoutError(error)).toBe(true)
    expect(error.message).toBe("[@breaker/core] storage 'redis' did not answer getStatus within 5 ms")
    expect(error.circuit).toBe('payments')
    const cause = new Error('ETIMEDOUT')
    expect(new StorageTimeoutError('redis', 'getStatus', 5, 'payments', { cause }).cause).toBe(cause)
  })

  it('StorageError.from wraps a thrown value with its cause and leaves a StorageError as is', () => {
    const cause = new Error('ECONNREFUSED')
    const wrapped = StorageError.from(cause, 'redis', 'record', 'payments')
    expect(wrapped).toMatchObject({ code: 'ERR_STORAGE', storage: 'redis', operation: 'record', circuit: 'payments', cause })
    expect(StorageError.from(wrapped, 'other', 'x')).toBe(wrapped)
  })

  it('CircuitOpenError names the circuit and says why', () => {
    const error = new CircuitOpenError('payments', 1000, 'half_open_full')
    expect(error).toMatchObject({ name: 'CircuitOpenError', circuit: 'payments', openedAt: 1000, reason: 'half_open_full' })
    expect(error.message).toContain('every probe permit is taken')
  })
})
