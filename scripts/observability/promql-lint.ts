/**
 * Checks one PromQL expression (Grafana variables already substituted) against the
 * metric contract: it parses with Prometheus' own lezer grammar, names only contract
 * series, matches only their labels, and compares closed labels only with their values.
 */
import { parser } from '@prometheus-io/lezer-promql'
import { METRICS, TARGET_LABELS, seriesContract } from './metric-contract.js'

type SyntaxNode = ReturnType<typeof parser.parse>['topNode']

const ANY_LABEL = new Set<string>([
  ...TARGET_LABELS,
  'le',
  ...Object.values(METRICS).flatMap((m) => Object.keys(m.labels)),
])

function stringValue(literal: string): string {
  if (literal.startsWith('"')) return JSON.parse(literal) as string
  return literal.slice(1, -1)
}

/** A regex we can read as a list of literal alternatives (`a|b|c`), else undefined. */
function alternatives(regex: string): string[] | undefined {
  return /^[a-z0-9_]+(\|[a-z0-9_]+)*$/.test(regex) ? regex.split('|') : undefined
}

function checkSelector(node: SyntaxNode, text: (n: SyntaxNode) => string, problems: string[]): void {
  const identifier = node.getChild('Identifier')
  if (!identifier) {
    problems.push(`selector without a metric name: ${text(node)}`)
    return
  }
  const name = text(identifier)
  const contract = seriesContract(name)
  if (!contract) {
    problems.push(`not a contract series: ${name}`)
    return
  }
  const matchers = node.getChild('LabelMatchers')
  for (const matcher of matchers
    ? [
        ...matchers.getChildren('UnquotedLabelMatcher'),
        ...matchers.getChildren('QuotedLabelMatcher'),
        ...matchers.getChildren('QuotedLabelName'),
      ]
    : []) {
    const labelNode = matcher.getChild('LabelName')
    const op = matcher.getChild('MatchOp')
    const valueNode = matcher.getChild('StringLiteral')
    if (!labelNode || !op || !valueNode) {
      problems.push(`${name}: unsupported matcher ${text(matcher)}`)
      continue
    }
    const label = text(labelNode)
    if (!(label in contract.labels) && !(TARGET_LABELS as readonly string[]).includes(label)) {
      problems.push(`${name} has no label "${label}"`)
      continue
    }
    const allowed = contract.labels[label]
    if (!allowed) continue
    const value = stringValue(text(valueNode))
    const regex = text(op).includes('~')
    const values = regex ? alternatives(value) : [value]
    for (const v of values ?? []) {
      if (!allowed.includes(v)) problems.push(`${name}{${label}}: "${v}" is not one of ${allowed.join(', ')}`)
    }
  }
}

/** The problems of one expression; empty when it is fine. */
export function lintPromql(expr: string): string[] {
  const problems: string[] = []
  const tree = parser.parse(expr)
  const text = (n: SyntaxNode) => expr.slice(n.from, n.to)
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) {
        problems.push(`syntax error at offset ${ref.from}: …${expr.slice(Math.max(0, ref.from - 20), ref.from + 20)}…`)
        return
      }
      const node = ref.node
      if (ref.name === 'VectorSelector') checkSelector(node, text, problems)
      if (ref.name === 'GroupingLabels') {
        for (const label of node.getChildren('LabelName')) {
          if (!ANY_LABEL.has(text(label))) problems.push(`grouping by "${text(label)}", which no contract metric has`)
        }
      }
    },
  })
  return problems
}
