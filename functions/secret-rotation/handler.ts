/**
 * Lambda entry point of the rotation job (EventBridge Scheduler, or an on-demand invoke with
 * `{"force": true}`). Configuration is validated at cold start; a failed run throws, so Lambda counts
 * an error and the `rotation-job` alarm fires.
 */
import type { Context } from 'aws-lambda';
import { createRotationJob, type RotationEvent } from './job.ts';

const job = createRotationJob(process.env);

export const handler = async (event: RotationEvent | null, context: Context) =>
  job.run(event ?? {}, () => context.getRemainingTimeInMillis(), context.awsRequestId);
