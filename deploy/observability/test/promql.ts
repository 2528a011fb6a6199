/**
 * What the dashboard and the alert rules ask of the services' metrics: their
 * PromQL expressions, read out of the files, and the metric names and labels
 * each expression uses.
 */

/** One PromQL expression, and where it comes from (for failure messages). */
export interface Query {
  where: string;
  expr: string;
}

/** A label matcher of a selector, as `label op "value"`. */
export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** A vector or range selector with a metric name. */
export interface Selector {
  metric: string;
  matchers: Matcher[];
}

/** The parts of an expression that must exist in a scrape. */
export interface QueryParts {
  selectors: Selector[];
  /** Labels named in `by`, `without`, `on`, `ignoring`, `group_left` and `group_right`. */
  groupingLabels: string[];
}

const groupingKeywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const otherKeywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

interface Token {
  kind: 'string' | 'number' | 'identifier' | 'variable' | 'punct';
  text: string;
}

// Strings first, so that a brace or a parenthesis inside a regular expression is not taken for syntax.
const tokenPattern =
  /\s+|#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|\$\{[^}]*\}|\$\w+|\d[\w.]*|[A-Za-z_:][\w:]*|=~|!~|!=|==|>=|<=|[-+*/%^(){}[\],=<>@]/gy;

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  tokenPattern.lastIndex = 0;
  while (tokenPattern.lastIndex < expr.length) {
    const at = tokenPattern.lastIndex;
    const match = tokenPattern.exec(expr);
    if (!match) throw new Error(`cannot read PromQL at "${expr.slice(at, at + 20)}" in: ${expr}`);
    const text = match[0];
    if (/^\s/.test(text) || text.startsWith('#')) continue;
    const first = text[0]!;
    const kind: Token['kind'] =
      first === '"' || first === "'" || first === '`'
        ? 'string'
        : first === '$'
          ? 'variable'
          : /\d/.test(first)
            ? 'number'
            : /[A-Za-z_:]/.test(first)
              ? 'identifier'
              : 'punct';
    tokens.push({ kind, text });
  }
  return tokens;
}

/** The value of a PromQL string literal. */
function unquote(literal: string): string {
  if (literal.startsWith('`')) return literal.slice(1, -1);
  return literal.slice(1, -1).replace(/\\(.)/g, '$1');
}

/**
 * The metric selectors and grouping labels of a PromQL expression (Grafana's
 * `$variables` may appear where PromQL takes a string or a duration). Not a
 * full parser: it reads what is needed to know which series an expression
 * asks for, and the test checks that promtool parses the same expressions.
 */
export function parseQuery(expr: string): QueryParts {
  const tokens = tokenize(expr);
  const selectors: Selector[] = [];
  const groupingLabels: string[] = [];
  const next = (i: number) => tokens[i + 1]?.text;

  const readMatchers = (open: number): { matchers: Matcher[]; end: number } => {
    const matchers: Matcher[] = [];
    let i = open + 1;
    while (tokens[i] && tokens[i]!.text !== '}') {
      const label = tokens[i]!;
      const op = tokens[i + 1];
      const value = tokens[i + 2];
      if (label.kind !== 'identifier' || !op || !['=', '!=', '=~', '!~'].includes(op.text) || !value) {
        throw new Error(`cannot read the label matchers of: ${expr}`);
      }
      matchers.push({
        label: label.text,
        op: op.text as Matcher['op'],
        value: value.kind === 'string' ? unquote(value.text) : value.text,
      });
      i += 3;
      if (tokens[i]?.text === ',') i++;
    }
    return { matchers, end: i };
  };

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.text === '[') {
      // A range or a subquery's range and step: durations, nothing to check.
      while (tokens[i] && tokens[i]!.text !== ']') i++;
      continue;
    }
    if (token.text === '{') {
      const { matchers, end } = readMatchers(i);
      const name = matchers.find((m) => m.label === '__name__' && m.op === '=');
      selectors.push({ metric: name?.value ?? '', matchers: matchers.filter((m) => m !== name) });
      i = end;
      continue;
    }
    if (token.kind !== 'identifier') continue;
    if (groupingKeywords.has(token.text)) {
      if (next(i) !== '(') continue;
      for (i += 2; tokens[i] && tokens[i]!.text !== ')'; i++) {
        if (tokens[i]!.kind === 'identifier') groupingLabels.push(tokens[i]!.text);
      }
      continue;
    }
    if (otherKeywords.has(token.text.toLowerCase())) continue;
    // A function, or an aggregation (its `by`/`without` may come before its parentheses).
    if (next(i) === '(' || next(i) === 'by' || next(i) === 'without') continue;
    if (next(i) === '{') {
      const { matchers, end } = readMatchers(i + 1);
      selectors.push({ metric: token.text, matchers });
      i = end;
    } else {
      selectors.push({ metric: token.text, matchers: [] });
    }
  }
  return { selectors, groupingLabels };
}

/** Grafana variables replaced by values PromQL accepts: intervals by 5m, others (label regexes) by `.*`. */
export function withVariablesReplaced(expr: string): string {
  return expr.replace(/\$\{(\w+)[^}]*\}|\$(\w+)/g, (_, braced: string | undefined, bare: string | undefined) =>
    (braced ?? bare ?? '').startsWith('__') ? '5m' : '.*',
  );
}

interface DashboardPanel {
  title?: string;
  targets?: Array<{ expr?: string }>;
  panels?: DashboardPanel[];
}

interface Dashboard {
  panels?: DashboardPanel[];
  templating?: { list?: Array<{ name: string; type: string; definition?: string; query?: unknown }> };
}

/**
 * Every PromQL query of a Grafana dashboard: its panels' targets (rows'
 * panels included) and the metric expressions of its `label_values(...)`
 * variables.
 */
export function dashboardQueries(json: string): Query[] {
  const dashboard = JSON.parse(json) as Dashboard;
  const queries: Query[] = [];
  const visit = (panels: DashboardPanel[] | undefined) => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? []) {
        if (target.expr) queries.push({ where: `panel "${panel.title}"`, expr: target.expr });
      }
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query =
      typeof variable.query === 'string'
        ? variable.query
        : ((variable.query as { query?: string } | undefined)?.query ?? variable.definition ?? '');
    const labelValues = /^\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*$/.exec(query);
    if (!labelValues)
      throw new Error(`variable ${variable.name}: only label_values(<metric>, <label>) is read: ${query}`);
    // The variable's label must be on the metric: a grouping label says so to the checks.
    queries.push({ where: `variable $${variable.name}`, expr: `max by (${labelValues[2]}) (${labelValues[1]})` });
  }
  return queries;
}

/**
 * The `expr` of every rule of a Prometheus rules file, inline or as a YAML
 * block scalar (`expr: |`). The rules files are YAML that this repository
 * writes; the test compares the count with the rules promtool finds, so an
 * expression written in a way this does not read fails the test.
 */
export function ruleExpressions(yaml: string): Query[] {
  const lines = yaml.split('\n');
  const queries: Query[] = [];
  let rule = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const name = /^\s*-\s*(alert|record):\s*(\S+)/.exec(line);
    if (name) rule = `${name[1]} ${name[2]}`;
    const expr = /^(\s*)(?:-\s*)?expr:\s*(.*?)\s*$/.exec(line);
    if (!expr) continue;
    const indent = expr[1]!.length;
    const value = expr[2]!;
    if (/^[|>][-+]?$/.test(value)) {
      const body: string[] = [];
      while (i + 1 < lines.length) {
        const following = lines[i + 1]!;
        if (following.trim() !== '' && following.search(/\S/) <= indent) break;
        body.push(following.trim());
        i++;
      }
      queries.push({ where: rule, expr: body.join('\n').trim() });
    } else if (/^'.*'$/.test(value)) {
      queries.push({ where: rule, expr: value.slice(1, -1).replace(/''/g, "'") });
    } else if (/^".*"$/.test(value)) {
      queries.push({ where: rule, expr: JSON.parse(value) as string });
    } else {
      queries.push({ where: rule, expr: value });
    }
  }
  return queries;
}

/** One series of a scrape: its name and labels. */
export interface ScrapedSeries {
  name: string;
  labels: Map<string, string>;
}

/** The samples of a Prometheus text exposition (comments and types aside). */
export function parseExposition(text: string): ScrapedSeries[] {
  const series: ScrapedSeries[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const head = /^([A-Za-z_:][\w:]*)(\{.*\})?\s+\S+/.exec(line);
    if (!head) throw new Error(`not a sample line: ${line}`);
    const labels = new Map<string, string>();
    const pairs = /([A-Za-z_]\w*)="((?:[^"\\]|\\.)*)"/g;
    for (const [, label, value] of (head[2] ?? '').matchAll(pairs)) {
      labels.set(label!, value!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1'));
    }
    series.push({ name: head[1]!, labels });
  }
  return series;
}
