import type { Command } from 'commander';
import { topicDetails, topicJson, topicsTable } from '../format-resources';
import { type CliDependencies, withClients } from '../invocation';
import { parseDuration, parseInteger } from '../parse';

interface CreateOptions {
  partitions?: number;
  /** Milliseconds. */
  retention?: number;
}

/** `herald topics create|get|list|delete`. */
export function registerTopicCommands(program: Command, dependencies: CliDependencies): void {
  const topics = program.command('topics').description('create, show, list and delete topics');

  topics
    .command('create')
    .description('create a topic')
    .argument('<name>', 'topic name: 3 to 200 letters, digits, ".", "_" or "-", a letter first')
    .option('-p, --partitions <count>', "partitions (default: the registry's, 3)", (v) => parseInteger(v))
    .option(
      '-r, --retention <duration>',
      "how long messages are kept, e.g. 12h or 7d (default: the registry's, 7d)",
      parseDuration,
    )
    .action(
      withClients<CreateOptions>(dependencies, 'registry', async ({ out, clients }, [name], options) => {
        const topic = await clients.admin().createTopic({
          name: name as string,
          partitions: options.partitions,
          retentionMillis: options.retention,
        });
        out.item(topicJson(topic), () => topicDetails(topic));
      }),
    );

  topics
    .command('get')
    .description("show a topic's settings")
    .argument('<name>', 'topic name')
    .action(
      withClients(dependencies, 'registry', async ({ out, clients }, [name]) => {
        const topic = await clients.admin().getTopic(name as string);
        out.item(topicJson(topic), () => topicDetails(topic));
      }),
    );

  topics
    .command('list')
    .alias('ls')
    .description('list every topic, by name')
    .action(
      withClients(dependencies, 'registry', async ({ out, clients }) => {
        const all = [];
        for await (const topic of clients.admin().listTopics()) all.push(topic);
        out.list(all, topicJson, topicsTable);
      }),
    );

  topics
    .command('delete')
    .alias('rm')
    .description('delete a topic and its messages (its subscriptions stay, detached, until deleted)')
    .argument('<name>', 'topic name')
    .action(
      withClients(dependencies, 'registry', async ({ out, clients }, [name]) => {
        await clients.admin().deleteTopic(name as string);
        out.item({ name, deleted: true }, () => `Deleted topic "${name as string}".`);
      }),
    );
}
