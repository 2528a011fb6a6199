import assert from 'node:assert/strict';
import { dashboardQueries, parseExposition, parseQuery, ruleExpressions, withVariablesReplaced } from './promql';

describe('reading PromQL out of the dashboard and the rules', () => {
  describe('parseQuery', () => {
    it('finds selectors and their matchers, not functions, keywords, durations or strings', () => {
      const parts = parseQuery(
        'histogram_quantile(0.99, sum by (grpc_method, le) (rate(grpc_server_handling_seconds_bucket{grpc_service="herald.v1.PublisherService", grpc_type!="bidi_stream"}[$__rate_interval] offset 5m)))',
      );
      assert.deepEqual(parts.selectors, [
        {
          metric: 'grpc_server_handling_seconds_bucket',
          matchers: [
            { label: 'grpc_service', op: '=', value: 'herald.v1.PublisherService' },
            { label: 'grpc_type', op: '!=', value: 'bidi_stream' },
          ],
        },
      ]);
      assert.deepEqual(parts.groupingLabels, ['grpc_method', 'le']);
    });

    it('reads both sides of binary operators, their on/ignoring/group_left labels, and bare names', () => {
      const parts = parseQuery(
        `sum by (namespace, job) (herald_ready or on (namespace, job, instance) (0 * up{job=~"herald-(a|b)"})) == 0
         and ignoring (dependency) process_cpu_seconds_total * on (job) group_left (service) herald_build_info
         unless vector(1) > bool 1/60`,
      );
      assert.deepEqual(
        parts.selectors.map((s) => s.metric),
        ['herald_ready', 'up', 'process_cpu_seconds_total', 'herald_build_info'],
      );
      assert.deepEqual(parts.selectors[1]!.matchers, [{ label: 'job', op: '=~', value: 'herald-(a|b)' }]);
      assert.deepEqual(parts.groupingLabels, [
        'namespace',
        'job',
        'namespace',
        'job',
        'instance',
        'dependency',
        'job',
        'service',
      ]);
    });

    it('is not fooled by braces, parentheses or keywords inside strings', () => {
      const parts = parseQuery('count(x{reason=~"a(b|c)}", topic!="by (and)"}) by (topic)');
      assert.deepEqual(parts.selectors, [
        {
          metric: 'x',
          matchers: [
            { label: 'reason', op: '=~', value: 'a(b|c)}' },
            { label: 'topic', op: '!=', value: 'by (and)' },
          ],
        },
      ]);
      assert.deepEqual(parts.groupingLabels, ['topic']);
    });

    it('takes the name from __name__ when a selector has no name before its braces', () => {
      assert.deepEqual(parseQuery('{__name__="herald_ready", job="x"}').selectors, [
        { metric: 'herald_ready', matchers: [{ label: 'job', op: '=', value: 'x' }] },
      ]);
    });
  });

  it('replaces Grafana variables: intervals by a duration, the others by a regex matching all', () => {
    assert.equal(
      withVariablesReplaced('rate(x{s=~"$subscription", t=~"${topic:regex}"}[$__rate_interval])'),
      'rate(x{s=~".*", t=~".*"}[5m])',
    );
  });

  it('reads every panel target, rows included, and label_values variables of a dashboard', () => {
    const queries = dashboardQueries(
      JSON.stringify({
        panels: [
          { title: 'a', targets: [{ expr: 'up' }, { expr: 'herald_ready' }] },
          { type: 'row', title: 'collapsed', panels: [{ title: 'b', targets: [{ expr: 'herald_build_info' }] }] },
        ],
        templating: {
          list: [
            { name: 'datasource', type: 'datasource', query: 'prometheus' },
            { name: 'subscription', type: 'query', query: { query: 'label_values(herald_x{a="b"}, subscription)' } },
          ],
        },
      }),
    );
    assert.deepEqual(queries, [
      { where: 'panel "a"', expr: 'up' },
      { where: 'panel "a"', expr: 'herald_ready' },
      { where: 'panel "b"', expr: 'herald_build_info' },
      { where: 'variable $subscription', expr: 'max by (subscription) (herald_x{a="b"})' },
    ]);
  });

  it('reads the expr of every rule, inline, quoted or as a block scalar', () => {
    const yaml = [
      'groups:',
      '  - name: g',
      '    rules:',
      '      - alert: A',
      '        expr: up == 0',
      '        for: 1m',
      '      - alert: B',
      '        expr: |',
      '          sum(x)',
      '',
      '          > 1',
      '        labels:',
      '          severity: warning',
      "      - record: 'c:d'",
      `        expr: 'y{a="it''s"}'`,
      '      - alert: E',
      '        expr: >-',
      '          z',
      '          > 2',
    ].join('\n');
    assert.deepEqual(ruleExpressions(yaml), [
      { where: 'alert A', expr: 'up == 0' },
      { where: 'alert B', expr: 'sum(x)\n\n> 1' },
      { where: "record 'c:d'", expr: `y{a="it's"}` },
      { where: 'alert E', expr: 'z\n> 2' },
    ]);
  });

  it('reads the samples of a scrape with their labels, escapes undone', () => {
    const series = parseExposition(
      [
        '# HELP herald_ready 1 while SERVING',
        '# TYPE herald_ready gauge',
        'herald_ready 1',
        'x_bucket{le="+Inf",topic="a\\"b",other="c,d"} 3 1700000000000',
      ].join('\n'),
    );
    assert.deepEqual(series, [
      { name: 'herald_ready', labels: new Map() },
      {
        name: 'x_bucket',
        labels: new Map([
          ['le', '+Inf'],
          ['topic', 'a"b'],
          ['other', 'c,d'],
        ]),
      },
    ]);
  });
});
