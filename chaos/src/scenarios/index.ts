import type { Scenario } from '../scenario';
import { brokerKill } from './broker-kill';
import { brokerPause } from './broker-pause';
import { control } from './control';
import { coordinatorKill } from './coordinator-kill';
import { fuzz } from './fuzz';
import { networkPartition } from './network-partition';
import { processKill } from './process-kill';
import { registryKill } from './registry-kill';
import { rollingRestart } from './rolling-restart';

export {
  brokerKill,
  brokerPause,
  control,
  coordinatorKill,
  fuzz,
  networkPartition,
  processKill,
  registryKill,
  rollingRestart,
};

/** Every scenario of `make chaos`, in the order they run; the control run last. */
export const allScenarios: Scenario[] = [
  brokerKill,
  brokerPause,
  coordinatorKill,
  processKill,
  registryKill,
  rollingRestart,
  networkPartition,
  fuzz,
  control,
];
