/**
 * Just enough PromQL to check alert rules and dashboards against what a
 * server exports: the metric names an expression selects, its label
 * matchers, the labels it groups by, and the functions it calls. Not a full
 * parser: it tokenizes, checks that brackets balance, and knows which words
 * are functions and keywords. Grafana's `$variables` count as values.
 */

/** A selector: `name{label op "value", ...}`. */
export interface Selector {
  name: string;
  matchers: { label: string; op: string; value: string }[];
}

/** What an expression refers to. */
export interface PromqlRefs {
  selectors: Selector[];
  /** Labels of `by (...)`, `without (...)`, `on (...)`, `ignoring (...)`, `group_left/right (...)`. */
  groupingLabels: string[];
  functions: string[];
}

const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);

/** PromQL functions (Prometheus 3). */
export const FUNCTIONS = new Set([
  ...AGGREGATIONS,
  'abs',
  'absent',
  'absent_over_time',
  'ceil',
  'changes',
  'clamp',
  'clamp_max',
  'clamp_min',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'days_in_month',
  'delta',
  'deriv',
  'exp',
  'floor',
  'histogram_avg',
  'histogram_count',
  'histogram_fraction',
  'histogram_quantile',
  'histogram_stddev',
  'histogram_stdvar',
  'histogram_sum',
  'hour',
  'idelta',
  'increase',
  'irate',
  'label_join',
  'label_replace',
  'ln',
  'log2',
  'log10',
  'minute',
  'month',
  'predict_linear',
  'rate',
  'resets',
  'round',
  'scalar',
  'sgn',
  'sort',
  'sort_desc',
  'sqrt',
  'time',
  'timestamp',
  'vector',
  'year',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'sum_over_time',
  'count_over_time',
  'quantile_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'last_over_time',
  'present_over_time',
]);

const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

type Token = { kind: 'ident' | 'string' | 'value' | 'punct'; text: string };

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const rest = expr.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const quote = rest[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      let j = 1;
      let text = '';
      while (j < rest.length && rest[j] !== quote) {
        if (rest[j] === '\\' && quote !== '`') j++;
        text += rest[j];
        j++;
      }
      if (j >= rest.length) throw new Error(`unterminated string in: ${expr}`);
      tokens.push({ kind: 'string', text });
      i += j + 1;
      continue;
    }
    const match =
      /^\$\{?\w+\}?/.exec(rest) ?? // a Grafana variable: a value (a range, a regex)
      /^[0-9][0-9.]*[a-zA-Z0-9]*/.exec(rest); // a number or a duration
    if (match) {
      tokens.push({ kind: 'value', text: match[0] });
      i += match[0].length;
      continue;
    }
    const ident = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(rest);
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0] });
      i += ident[0].length;
      continue;
    }
    const punct = /^(=~|!~|!=|==|>=|<=|[-+*/%^=<>(){}[\],:@])/.exec(rest);
    if (!punct) throw new Error(`unexpected '${rest[0]}' in: ${expr}`);
    tokens.push({ kind: 'punct', text: punct[0] });
    i += punct[0].length;
  }
  return tokens;
}

/** The metric names, label matchers, grouping labels and functions of `expr`. */
export function promqlRefs(expr: string): PromqlRefs {
  const tokens = tokenize(expr);
  const refs: PromqlRefs = { selectors: [], groupingLabels: [], functions: [] };
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', '}': '{', ']': '[' };
  for (const t of tokens) {
    if (t.kind !== 'punct') continue;
    if ('({['.includes(t.text)) stack.push(t.text);
    if (')}]'.includes(t.text) && stack.pop() !== pairs[t.text])
      throw new Error(`unbalanced '${t.text}' in: ${expr}`);
  }
  if (stack.length > 0) throw new Error(`unclosed '${stack.at(-1)}' in: ${expr}`);

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = tokens[i + 1];
    if (t.kind === 'punct' && t.text === '[') {
      while (tokens[i]?.text !== ']') i++; // a range or subquery: durations only
      continue;
    }
    if (t.kind === 'punct' && t.text === '{') throw new Error(`a selector without a metric name in: ${expr}`);
    if (t.kind !== 'ident') continue;
    if (GROUPING.has(t.text)) {
      if (next?.text !== '(') continue; // group_left without labels
      i += 2;
      while (tokens[i]?.text !== ')') {
        if (tokens[i]!.kind === 'ident') refs.groupingLabels.push(tokens[i]!.text);
        i++;
      }
      continue;
    }
    if (KEYWORDS.has(t.text.toLowerCase())) continue;
    // `sum by (x) (...)`: an aggregation with its grouping before the parentheses.
    if (
      next?.text === '(' ||
      (AGGREGATIONS.has(t.text) && (next?.text === 'by' || next?.text === 'without'))
    ) {
      if (!FUNCTIONS.has(t.text)) throw new Error(`unknown function ${t.text}() in: ${expr}`);
      refs.functions.push(t.text);
      continue;
    }
    const selector: Selector = { name: t.text, matchers: [] };
    if (next?.text === '{') {
      i += 2;
      while (tokens[i]?.text !== '}') {
        const [label, op, value] = [tokens[i], tokens[i + 1], tokens[i + 2]];
        if (label?.kind !== 'ident' || !['=', '!=', '=~', '!~'].includes(op?.text ?? '') || !value)
          throw new Error(`bad label matcher in: ${expr}`);
        selector.matchers.push({ label: label.text, op: op!.text, value: value.text });
        i += 3;
        if (tokens[i]?.text === ',') i++;
      }
    }
    refs.selectors.push(selector);
  }
  return refs;
}

/** A parsed `/metrics` page: each metric family's type, and the label sets of each series name. */
export interface Exposition {
  types: Map<string, string>;
  series: Map<string, Record<string, string>[]>;
}

/** Parses the Prometheus text format. */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const series = new Map<string, Record<string, string>[]>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+/.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const m of (sample[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    const list = series.get(sample[1]!) ?? [];
    list.push(labels);
    series.set(sample[1]!, list);
  }
  return { types, series };
}

/** The metric family a series name belongs to (`x_bucket` of histogram `x` is `x`). */
export function familyOf(name: string, exposition: Exposition): string | undefined {
  if (exposition.types.has(name)) return name;
  const suffix = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (suffix && ['histogram', 'summary'].includes(exposition.types.get(suffix[1]!) ?? '')) {
    if (suffix[2] === 'bucket' && exposition.types.get(suffix[1]!) !== 'histogram') return undefined;
    return suffix[1];
  }
  return undefined;
}
