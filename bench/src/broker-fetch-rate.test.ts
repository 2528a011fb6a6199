import assert from 'node:assert/strict';
import { JmxToolOutput, agentUrl, rateBetween } from './broker-fetch-rate';

// What JmxTool 4.4 prints with `--attributes Count --reporting-interval 1000` and two request versions in use.
const printed = [
  'Trying to connect to JMX url: service:jmx:rmi://127.0.0.1/stub/rO0ABXNy',
  '"time","kafka.network:type=RequestMetrics,name=RequestsPerSec,request=Fetch,version=16:Count",' +
    '"kafka.network:type=RequestMetrics,name=RequestsPerSec,request=Fetch,version=18:Count"',
  '1796246138598,19756,13',
  '1796246139590,19800,13',
  '1796246140591,19850,14',
  '',
].join('\n');

describe('JmxToolOutput', () => {
  it('sums the Count columns of each poll, whatever the commas inside the quoted MBean names', () => {
    const output = new JmxToolOutput();
    output.push(printed);
    assert.deepEqual(output.samples, [
      { timeMillis: 1796246138598, count: 19769 },
      { timeMillis: 1796246139590, count: 19813 },
      { timeMillis: 1796246140591, count: 19864 },
    ]);
  });

  it('takes output in pieces cut anywhere, and keeps a half line until its end comes', () => {
    const output = new JmxToolOutput();
    for (let i = 0; i < printed.length; i += 7) output.push(printed.slice(i, i + 7));
    assert.equal(output.samples.length, 3);
    const partial = new JmxToolOutput();
    partial.push(printed.slice(0, printed.indexOf('1796246139590') + 5));
    assert.equal(partial.samples.length, 1);
  });

  it('reads no sample before the header, nor a line of another width or with words', () => {
    const output = new JmxToolOutput();
    output.push('1796246138598,19756,13\n"time","a:Count"\n1,2,3\nNo matched attributes\n5,6\n');
    assert.deepEqual(output.samples, [{ timeMillis: 5, count: 6 }]);
  });
});

describe('rateBetween', () => {
  const samples = [
    { timeMillis: 1_000, count: 100 },
    { timeMillis: 2_000, count: 110 },
    { timeMillis: 3_000, count: 130 },
    { timeMillis: 4_000, count: 160 },
  ];

  it('is the count growth per second between the first and last samples inside the interval', () => {
    assert.equal(rateBetween(samples, 1_500, 4_000), 25); // (160 - 110) / 2 s
    assert.equal(rateBetween(samples, 0, 10_000), 20);
  });

  it('is undefined without two samples inside, or when the count went down (a restarted broker)', () => {
    assert.equal(rateBetween(samples, 1_500, 2_500), undefined);
    assert.equal(rateBetween([], 0, 1), undefined);
    assert.equal(
      rateBetween(
        [
          { timeMillis: 1_000, count: 100 },
          { timeMillis: 2_000, count: 5 },
        ],
        0,
        3_000,
      ),
      undefined,
    );
  });
});

describe('agentUrl', () => {
  it("reads the local connector's URL from jcmd ManagementAgent.status", () => {
    const status = [
      '5820:',
      'Agent: enabled',
      '',
      'Connection Type: local',
      'Protocol       : rmi',
      'Host           : 127.0.0.1',
      'URL            : service:jmx:rmi://127.0.0.1/stub/rO0ABXNyAC5q',
      'Properties     :',
      '  com.sun.management.jmxremote.port = 0 [default]',
    ].join('\n');
    assert.equal(agentUrl(status), 'service:jmx:rmi://127.0.0.1/stub/rO0ABXNyAC5q');
  });

  it('prefers the local connector over a remote one, and finds none in a disabled agent', () => {
    const both = [
      'Agent: enabled',
      '',
      'Connection Type: remote',
      'URL            : service:jmx:rmi:///jndi/rmi://127.0.0.1:9999/jmxrmi',
      '',
      'Connection Type: local',
      'URL            : service:jmx:rmi://127.0.0.1/stub/LOCAL',
    ].join('\n');
    assert.equal(agentUrl(both), 'service:jmx:rmi://127.0.0.1/stub/LOCAL');
    assert.equal(agentUrl('5820:\nAgent: disabled\n'), undefined);
  });
});
