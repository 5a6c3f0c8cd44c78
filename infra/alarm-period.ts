import { Duration } from 'aws-cdk-lib';

/** The period of every alarm and dashboard graph. */
export const ALARM_PERIOD = Duration.minutes(5);
