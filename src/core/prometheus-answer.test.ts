import { describe, expect, it } from 'vitest'
import { prometheusNumber, PrometheusAnswerInvalid } from './prometheus-answer.js'

// The answers' shapes are those of Prometheus's HTTP API (/api/v1/query), as a real server sends them.
describe('prometheusNumber', () => {
  it('reads a one-series vector and a scalar as seconds', () => {
    expect(
      prometheusNumber({
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: [1764658000.1, '0.412'] }] },
      }),
    ).toBe(0.412)
    expect(
      prometheusNumber({ status: 'success', data: { resultType: 'scalar', result: [1764658000.1, '0.25'] } }),
    ).toBe(0.25)
  })

  it('reads no series or NaN (no reads in the range) as nothing to judge', () => {
    expect(prometheusNumber({ status: 'success', data: { resultType: 'vector', result: [] } })).toBeNull()
    expect(
      prometheusNumber({
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: [1, 'NaN'] }] },
      }),
    ).toBeNull()
  })

  it('refuses several series, a matrix and an error answer, saying what to change', () => {
    const two = {
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: { a: '1' }, value: [1, '1'] },
          { metric: { a: '2' }, value: [1, '2'] },
        ],
      },
    }
    expect(() => prometheusNumber(two)).toThrow(/returned 2 series, not one number; aggregate it/)
    expect(() => prometheusNumber({ status: 'success', data: { resultType: 'matrix', result: [] } })).toThrow(
      PrometheusAnswerInvalid,
    )
    expect(() => prometheusNumber({ status: 'error', errorType: 'bad_data', error: 'parse error at char 5' })).toThrow(
      /prometheus refused the query: parse error at char 5/,
    )
  })
})
