import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Admin, Publisher, Subscriber } from '@herald/client';
import { HeraldStack } from '@herald/devstack';
import { heraldHome } from '@herald/local-kafka';
import { silentLogger } from '@herald/logging';
import { testKafka, uniqueName, waitFor } from '@herald/testkit';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type RunningConsole, startConsole } from '../src/console';

/** Screenshots of the run, kept as its artefacts (gitignored); docs/images holds the one the README shows. */
const artifactDir = path.resolve(__dirname, '..', '..', 'test-artifacts');
/** Debian's chromium (deploy/toolchain/chromium.sh installs it); Playwright never downloads a browser here. */
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** Fixed ports for the stack and the console when set (a machine shared with other runs); free ports otherwise. */
const basePort = process.env.CONSOLE_E2E_BASE_PORT ? Number(process.env.CONSOLE_E2E_BASE_PORT) : undefined;

describe('console in headless Chromium against the real services', function () {
  this.timeout(300_000);
  let stack: HeraldStack;
  let consoleServer: RunningConsole;
  let browser: Browser;
  let page: Page;
  const outsideRequests: string[] = [];
  const pageErrors: string[] = [];
  const prefix = `${uniqueName('console')}.`;

  const shot = async (name: string) => {
    await page.screenshot({ path: path.join(artifactDir, `${name}.png`), fullPage: true });
  };
  /** The dialog on screen (there is one at a time). */
  const dialog = () => page.locator('dialog[open]');
  const figure = (testId: string) => page.getByTestId(testId);

  before(async () => {
    mkdirSync(artifactDir, { recursive: true });
    stack = await HeraldStack.start({
      kafkaBrokers: testKafka().brokers,
      logDir: path.join(heraldHome, 'test', 'logs', prefix),
      env: { HERALD_TOPIC_PREFIX: prefix, DISPATCHER_COMMIT_INTERVAL_MS: '200' },
      ...(basePort
        ? {
            ports: { 'subscriber-registry': basePort, publisher: basePort + 1, dispatcher: basePort + 2 },
            metricsPorts: { 'subscriber-registry': basePort + 3, publisher: basePort + 4, dispatcher: basePort + 5 },
          }
        : {}),
    });
    consoleServer = await startConsole({
      endpoints: {
        registry: stack.registries.map((s) => s.address),
        dispatcher: stack.dispatchers.map((s) => s.address),
        publisher: stack.publishers.map((s) => s.address),
      },
      host: '127.0.0.1',
      port: basePort ? basePort + 10 : 0,
      statsIntervalMillis: 1_000,
      publisherMetricsUrls: stack.publishers.map((s) => s.metricsUrl),
      log: silentLogger(),
    });
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(consoleServer.url) && !url.startsWith('data:')) outsideRequests.push(url);
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  after(async () => {
    await browser?.close();
    await consoleServer?.stop();
    await stack?.stop();
  });

  it('creates a topic and a subscription, publishes and tails from the page, and shows the backlog fall on a pull and rise on a seek', async () => {
    const topic = uniqueName('orders');
    const subscription = `${topic}-audit`;

    // A topic, through the two-step dialog.
    await page.goto(consoleServer.url);
    await page.getByRole('heading', { name: 'Topics' }).waitFor();
    await page.getByRole('button', { name: 'Create topic' }).click();
    await dialog().getByLabel('Name').fill(topic);
    await dialog().getByLabel('Partitions').fill('2');
    await dialog().getByRole('button', { name: 'Review' }).click();
    await dialog().getByText(`Create topic "${topic}" with 2 partitions`).waitFor();
    await dialog().getByRole('button', { name: 'Create topic' }).click();
    await page.getByRole('heading', { name: `Topic ${topic}` }).waitFor();

    // The same name again: the registry's ALREADY_EXISTS, shown in the dialog, which stays open.
    await page.goto(consoleServer.url);
    await page.getByRole('link', { name: topic }).waitFor();
    await page.getByRole('button', { name: 'Create topic' }).click();
    await dialog().getByLabel('Name').fill(topic);
    await dialog().getByRole('button', { name: 'Review' }).click();
    await dialog().getByRole('button', { name: 'Create topic' }).click();
    await dialog().getByRole('alert').getByText('ALREADY_EXISTS').waitFor();
    await shot('01-topic-already-exists');
    await dialog().getByRole('button', { name: 'Cancel' }).click();

    // A subscription, from the topic's page.
    await page.getByRole('link', { name: topic }).click();
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await dialog().getByLabel('Name').fill(subscription);
    await dialog().getByRole('button', { name: 'Review' }).click();
    await dialog().getByRole('button', { name: 'Create subscription' }).click();
    await page.getByRole('heading', { name: `Subscription ${subscription}` }).waitFor();
    await waitFor(async () => (await figure('backlog').textContent()) === '0', { description: 'a backlog of 0' });

    // The live tail, then a message published from the page arriving in it.
    await page.goto(`${consoleServer.url}#/topics/${topic}/tail`);
    await page.getByTestId('tail-state').getByText('live').waitFor();
    const publish = async (data: string, attributes: string) => {
      await page.getByRole('button', { name: 'Publish test message' }).click();
      await dialog().getByLabel('Data (text)').fill(data);
      await dialog().getByLabel('Attributes').fill(attributes);
      await dialog().getByRole('button', { name: 'Review' }).click();
      await dialog().getByText(`to "${topic}" with attributes`).waitFor();
      await dialog().getByRole('button', { name: 'Publish' }).click();
      const id = await dialog().getByTestId('published-id').textContent();
      await dialog().getByRole('button', { name: 'Close' }).click();
      return id!;
    };
    const firstId = await publish('{"order": 1, "from": "the console"}', 'region=eu\nsource=e2e');
    const firstRow = page.locator(`tr[data-message-id="${firstId}"]`);
    await firstRow.waitFor();
    const firstText = (await firstRow.textContent())!;
    for (const part of ['region=eu', 'source=e2e', '{"order": 1, "from": "the console"}']) {
      assert.ok(firstText.includes(part), `the tailed row shows ${part}: ${firstText}`);
    }

    // Paused, the tail keeps reading but draws nothing until resumed.
    await page.getByRole('button', { name: 'Pause' }).click();
    const secondId = await publish('{"order": 2}', 'region=us');
    await page.getByText('1 received, 1 waiting').waitFor();
    assert.equal(await page.locator(`tr[data-message-id="${secondId}"]`).count(), 0);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator(`tr[data-message-id="${secondId}"]`).waitFor();
    await shot('02-live-tail');

    // Both messages wait in the subscription.
    await page.goto(`${consoleServer.url}#/subscriptions/${subscription}`);
    await waitFor(async () => (await figure('backlog').textContent()) === '2', {
      description: 'a backlog of 2 on the page',
    });
    // A few more readings, so that the charts have a line to draw.
    await waitFor(async () => (await page.locator('figure.chart path.line').count()) >= 2, {
      description: 'lines in the charts',
    });
    await shot('03-subscription-backlog');

    // A subscriber acknowledges both (the SDK, as an application would): the page's backlog falls to 0.
    const received: string[] = [];
    const subscriber = new Subscriber({ endpoints: stack.dispatchers.map((s) => s.address), subscription });
    subscriber.on('message', (message) => {
      received.push(message.id);
      message.ack();
    });
    try {
      await waitFor(() => received.length >= 2, { description: 'the subscriber receiving both messages' });
      await waitFor(async () => (await figure('backlog').textContent()) === '0', {
        description: 'the backlog on the page falling to 0',
      });
    } finally {
      await subscriber.close();
    }
    assert.deepEqual(new Set(received), new Set([firstId, secondId]));
    await shot('04-backlog-acknowledged');

    // Seek to earliest, confirmed in the dialog: the two messages are owed again.
    await page.getByRole('button', { name: 'Seek' }).click();
    await dialog().getByLabel('Move to').selectOption('earliest');
    await dialog().getByRole('button', { name: 'Review' }).click();
    await dialog().getByText('everything retained is delivered again').waitFor();
    await dialog().getByRole('button', { name: 'Seek' }).click();
    await waitFor(async () => (await figure('backlog').textContent()) === '2', {
      description: 'the backlog on the page rising back to 2 after the seek',
    });
    await shot('05-after-seek');

    // The topic list, paged and searched on the server, finds it with its one subscription.
    await page.goto(`${consoleServer.url}#/topics`);
    await page.getByRole('searchbox').fill(topic);
    await page.getByText('1 topic · page 1').waitFor();
    const row = page.locator('tr', { has: page.getByRole('link', { name: topic }) });
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[1], '2', 'partitions');
    assert.equal(cells[4], '1', 'subscriptions');
    assert.match(cells[5]!, /^\d+\.\d\/s$/, 'a publish rate, read from the publisher');
    await shot('06-topics');

    assert.deepEqual(outsideRequests, [], 'the page asked for something outside the console');
    assert.deepEqual(pageErrors, []);
  });

  it('shows a dead letter and redrives it back to its subscription, confirmed on the page', async () => {
    const topic = uniqueName('payments');
    const deadTopic = `${topic}-dead`;
    const subscription = `${topic}-ledger`;
    const registry = stack.registries.map((s) => s.address);
    const admin = new Admin({ endpoints: registry });
    const publisher = new Publisher({ endpoints: stack.publishers.map((s) => s.address) });
    try {
      await admin.createTopic({ name: topic, partitions: 1 });
      await admin.createTopic({ name: deadTopic, partitions: 1 });
      await admin.createSubscription({
        name: subscription,
        topic,
        deadLetterPolicy: { deadLetterTopic: deadTopic, maxDeliveryAttempts: 5 },
        retryPolicy: { minimumBackoffMillis: 0, maximumBackoffMillis: 0 },
      });
      await publisher.publish(topic, { data: 'refund 42', attributes: { kind: 'refund' } });
    } finally {
      admin.close();
      await publisher.close();
    }
    // A subscriber that fails the message every time, until the dispatcher dead-letters it.
    const failing = new Subscriber({ endpoints: stack.dispatchers.map((s) => s.address), subscription });
    failing.on('message', (message) => message.nack());
    try {
      await waitFor(
        async () => {
          const response = await fetch(`${consoleServer.url}api/subscriptions/${subscription}/dead-letters`);
          return ((await response.json()) as { messages?: unknown[] }).messages?.length === 1;
        },
        { timeoutMillis: 60_000, intervalMillis: 500, description: 'the message among the dead letters' },
      );
    } finally {
      await failing.close();
    }

    await page.goto(`${consoleServer.url}#/subscriptions/${subscription}/dead-letters`);
    const row = page.locator('tr', { hasText: 'refund 42' });
    await row.waitFor();
    assert.match((await row.textContent())!, /herald-dead-letter-attempts=5/);
    await shot('07-dead-letters');

    await page.getByRole('button', { name: 'Redrive…' }).click();
    await dialog().getByText(`every dead letter of "${subscription}" back to it`).waitFor();
    await dialog().getByRole('button', { name: 'Redrive' }).click();
    assert.match((await dialog().getByTestId('redrive-result').textContent())!, /^Moved 1 /);
    await dialog().getByRole('button', { name: 'Close' }).click();
    await page.getByText('No dead letters waiting.').waitFor();

    // Moved back, it is owed to the subscription again.
    await page.goto(`${consoleServer.url}#/subscriptions/${subscription}`);
    await waitFor(async () => (await figure('backlog').textContent()) === '1', {
      description: 'the redriven message in the backlog',
    });
    await waitFor(async () => (await figure('dead-lettered').textContent()) === '1', {
      description: 'the dead-lettered count',
    });
    assert.deepEqual(outsideRequests, []);
    assert.deepEqual(pageErrors, []);
  });
});
