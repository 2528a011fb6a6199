import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Admin } from '@herald/client';
import { HeraldStack } from '@herald/devstack';
import { heraldHome } from '@herald/local-kafka';
import { silentLogger } from '@herald/logging';
import { TestCa, TestSigningKey, securedServiceEnv, testKafka, uniqueName, waitFor } from '@herald/testkit';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type RunningConsole, startConsole } from '../src/console';

const artifactDir = path.resolve(__dirname, '..', '..', 'test-artifacts');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * The console before services with TLS, client certificates, tokens and role bindings on: the operator
 * signs in with a token, and what the page does is what that token may do, whatever the console's own
 * identity (an admin, as watching the registry needs) could.
 */
describe('console sign-in against secured services (headless Chromium)', function () {
  this.timeout(300_000);
  const prefix = `${uniqueName('console-sec')}.`;
  let ca: TestCa;
  let stack: HeraldStack;
  let consoleServer: RunningConsole;
  let browser: Browser;
  let page: Page;
  let key: TestSigningKey;
  let tls: { ca: Buffer; cert: Buffer; key: Buffer };
  const topic = uniqueName('audited');

  const token = (subject: string) => key.sign(subject);
  const dialog = () => page.locator('dialog[open]');
  const signIn = async (jwt: string) => {
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Bearer token').fill(jwt);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  /** Signs in with a token the services accept, and waits until the page is past the form (its cookie set). */
  const signInAs = async (subject: string) => {
    await signIn(await token(subject));
    await page.getByRole('heading', { name: 'Sign in' }).waitFor({ state: 'hidden' });
  };

  before(async () => {
    mkdirSync(artifactDir, { recursive: true });
    ca = new TestCa('Herald console test CA');
    const server = ca.issue('service', { commonName: 'herald-service', hosts: ['127.0.0.1', 'localhost'] });
    const consoleCert = ca.issue('console', { commonName: 'console', usage: 'client' });
    key = await TestSigningKey.create();
    const jwksFile = key.writeJwks(ca.dir);
    const policyFile = path.join(ca.dir, 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({
        herald: [
          { role: 'admin', members: ['mtls:localhost', 'mtls:console', 'jwt:admin-op'] },
          { role: 'viewer', members: ['jwt:viewer-op'] },
          { role: 'editor', members: ['jwt:editor-op'] },
        ],
      }),
    );
    stack = await HeraldStack.start({
      kafkaBrokers: testKafka().brokers,
      logDir: path.join(heraldHome, 'test', 'logs', prefix),
      env: {
        HERALD_TOPIC_PREFIX: prefix,
        ...securedServiceEnv({ ca, server, policyFile, jwksFile }),
      },
    });
    tls = {
      ca: readFileSync(ca.caFile),
      cert: readFileSync(consoleCert.certFile),
      key: readFileSync(consoleCert.keyFile),
    };
    const admin = new Admin({ endpoints: stack.registries.map((s) => s.address), tls, token: await token('admin-op') });
    try {
      await admin.createTopic({ name: topic, partitions: 1 });
    } finally {
      admin.close();
    }
    consoleServer = await startConsole({
      endpoints: {
        registry: stack.registries.map((s) => s.address),
        dispatcher: stack.dispatchers.map((s) => s.address),
        publisher: stack.publishers.map((s) => s.address),
      },
      host: '127.0.0.1',
      port: 0,
      statsIntervalMillis: 1_000,
      tls,
      signIn: true,
      log: silentLogger(),
    });
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });

  after(async () => {
    await browser?.close();
    await consoleServer?.stop();
    await stack?.stop();
    ca?.remove();
  });

  it("asks for a token, refuses a bad one, and acts with the operator's rights, not the console's", async () => {
    await page.goto(consoleServer.url);
    // Nothing is served before signing in, whatever the console itself may see.
    const anonymous = await page.request.get(`${consoleServer.url}api/topics`);
    assert.equal(anonymous.status(), 401);

    await signIn('not-a-jwt');
    await page.getByRole('alert').getByText('UNAUTHENTICATED').waitFor();

    // A viewer lists topics, and is refused creating one: the registry's PERMISSION_DENIED, in the dialog.
    await page.getByLabel('Bearer token').fill(await token('viewer-op'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: topic }).waitFor();
    await page.getByRole('button', { name: 'Create topic' }).click();
    await dialog().getByLabel('Name').fill(`${topic}-2`);
    await dialog().getByRole('button', { name: 'Review' }).click();
    await dialog().getByRole('button', { name: 'Create topic' }).click();
    await dialog().getByRole('alert').getByText('PERMISSION_DENIED').waitFor();
    await page.screenshot({ path: path.join(artifactDir, '08-viewer-refused.png'), fullPage: true });
    await dialog().getByRole('button', { name: 'Cancel' }).click();

    // Signed out, and in again as an editor: the same action goes through.
    await page.getByRole('link', { name: 'Sign out' }).click();
    await signInAs('editor-op');
    await page.getByRole('button', { name: 'Create topic' }).click();
    await dialog().getByLabel('Name').fill(`${topic}-2`);
    await dialog().getByRole('button', { name: 'Review' }).click();
    await dialog().getByRole('button', { name: 'Create topic' }).click();
    await page.getByRole('heading', { name: `Topic ${topic}-2` }).waitFor();
  });

  it('lists only the topics and subscriptions the signed-in operator may see, item by item, and follows grants', async () => {
    const admin = new Admin({ endpoints: stack.registries.map((s) => s.address), tls, token: await token('admin-op') });
    const hidden = uniqueName('hidden');
    try {
      await admin.createTopic({ name: hidden, partitions: 1 });
      await admin.createSubscription({ name: `${topic}-sub`, topic });
      await admin.createSubscription({ name: `${hidden}-sub`, topic: hidden });
      // Bindings on one topic and one subscription only, set through the API (not the policy file).
      await admin.setIamPolicy(`topics/${topic}`, { bindings: [{ role: 'viewer', members: ['jwt:narrow-op'] }] });
      await admin.setIamPolicy(`subscriptions/${topic}-sub`, {
        bindings: [{ role: 'subscriber', members: ['jwt:narrow-op'] }],
      });
      await page.getByRole('link', { name: 'Sign out' }).click();
      await signInAs('narrow-op');
      const names = async (list: 'topics' | 'subscriptions') => {
        const response = await page.request.get(`${consoleServer.url}api/${list}`);
        assert.equal(response.status(), 200, await response.text());
        const body = (await response.json()) as Record<string, Array<{ name: string }>>;
        return body[list]!.map((item) => item.name).sort();
      };
      await page.getByRole('navigation').getByRole('link', { name: 'Topics' }).click();
      await page.getByRole('link', { name: topic, exact: true }).waitFor();
      // The editor's topic of the first test and the hidden one are left out, and nothing counts them.
      assert.deepEqual(await names('topics'), [topic]);
      assert.deepEqual(await names('subscriptions'), [`${topic}-sub`]);
      assert.equal(await page.getByRole('link', { name: hidden }).count(), 0);
      const status = (await (await page.request.get(`${consoleServer.url}api/status`)).json()) as {
        registry: { topics: number };
      };
      assert.equal(status.registry.topics, 1);
      await page.screenshot({ path: path.join(artifactDir, '09-narrow-viewer.png'), fullPage: true });

      // A grant while signed in shows up without signing in again; a revocation hides again.
      await admin.setIamPolicy(`topics/${hidden}`, { bindings: [{ role: 'viewer', members: ['jwt:narrow-op'] }] });
      await waitFor(async () => (await names('topics')).includes(hidden), {
        timeoutMillis: 15_000,
        description: 'the granted topic listed',
      });
      await admin.setIamPolicy(`topics/${hidden}`, { bindings: [] });
      await waitFor(async () => !(await names('topics')).includes(hidden), {
        timeoutMillis: 15_000,
        description: 'the revoked topic gone from the list',
      });
    } finally {
      admin.close();
    }
  });

  it("shows a topic's access and grants a role through the page, which the services refuse to a viewer", async () => {
    await page.getByRole('link', { name: 'Sign out' }).click();
    await signInAs('admin-op');
    await page.goto(`${consoleServer.url}#/topics/${topic}`);
    const access = page.getByRole('region', { name: 'Access' });
    await access.getByRole('cell', { name: 'jwt:narrow-op', exact: true }).waitFor();
    // The operator's own view of the registry counts the topic's subscription as soon as the page shows.
    await page.locator('dl.facts').getByText('Subscriptions').waitFor();
    assert.equal(await page.locator('dl.facts dt:has-text("Subscriptions") + dd').textContent(), '1');
    await access.getByRole('button', { name: 'Grant role' }).click();
    await dialog().getByLabel('Role').selectOption('publisher');
    await dialog().getByLabel('Member').fill('jwt:grace');
    await dialog().getByRole('button', { name: 'Review' }).click();
    await dialog().getByRole('button', { name: 'Grant' }).click();
    await access.getByRole('cell', { name: 'jwt:grace', exact: true }).waitFor();
    await page.screenshot({ path: path.join(artifactDir, '10-topic-access.png'), fullPage: true });
    const admin = new Admin({ endpoints: stack.registries.map((s) => s.address), tls, token: await token('admin-op') });
    try {
      const { policy } = await admin.getIamPolicy(`topics/${topic}`);
      assert.ok(policy.bindings.some((b) => b.role === 'publisher' && b.members.includes('jwt:grace')));
    } finally {
      admin.close();
    }

    // A viewer of the topic sees no policy and cannot grant: the registry says PERMISSION_DENIED.
    await page.getByRole('link', { name: 'Sign out' }).click();
    await signInAs('narrow-op');
    await page.goto(`${consoleServer.url}#/topics/${topic}`);
    await access.getByRole('alert').getByText('PERMISSION_DENIED').waitFor();
    await access.getByRole('button', { name: 'Grant role' }).click();
    await dialog().getByLabel('Member').fill('jwt:narrow-op');
    await dialog().getByRole('button', { name: 'Review' }).click();
    await dialog().getByRole('button', { name: 'Grant' }).click();
    await dialog().getByRole('alert').getByText('PERMISSION_DENIED').waitFor();
    await dialog().getByRole('button', { name: 'Cancel' }).click();
  });
});
