import path from 'node:path';

/** The repository's root folder. */
export const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');

/** Where the Maven pom and the broker logging config live. */
export const kafkaDeployDir = path.join(repoRoot, 'deploy', 'kafka');

/** Local state of this checkout (jars, broker data), ignored by git. */
export const heraldHome = process.env.HERALD_HOME ?? path.join(repoRoot, '.herald');
