// Lint rules for all workspaces: typescript-eslint's recommended set, TSDoc
// syntax, and the architecture rule that domain logic knows nothing of gRPC or Kafka.
import js from '@eslint/js';
import tsdoc from 'eslint-plugin-tsdoc';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'libs/api/src/gen/**', '.herald/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { tsdoc },
    rules: {
      'tsdoc/syntax': 'warn',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['services/*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@grpc/*', 'kafkajs', '@confluentinc/*', '@herald/api', '@herald/kafka', '@herald/grpc-server'],
              message: 'domain logic stays free of gRPC and Kafka',
            },
          ],
        },
      ],
    },
  },
  {
    // Kafka is reached through libs/kafka alone, so the client library stays swappable (HERALD_KAFKA_CLIENT).
    // Tests, the local cluster tooling, bench and chaos read Kafka with raw clients on purpose: an
    // independent check, and the baselines Herald is measured against.
    files: ['services/*/src/**/*.ts', 'clients/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    ignores: ['libs/kafka/**', 'libs/local-kafka/**', 'libs/testkit/**', 'services/*/src/domain/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['kafkajs', 'kafkajs/*', '@confluentinc/*', '@platformatic/kafka'],
              message: 'Kafka is reached through @herald/kafka only',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
