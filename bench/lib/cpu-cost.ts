/**
 * CPU cost of two scans over caller- or Affix-controlled text, on their worst-case inputs: the request
 * body's nesting check (`exceedsJsonDepth`) and the judgement of Affix's error words
 * (`judgeUpstreamText`). Each is timed against `JSON.parse` of the same bytes in the same rounds, at two
 * input sizes (the larger four times the smaller), so a figure is a ratio, not milliseconds of this
 * machine: the cost over the parse, and how the cost grows when the input grows fourfold (about 4 when
 * linear, 16 when quadratic).
 *
 * The inputs are built here and measured in a child process (`bench/child/cpu-cost.ts`), which the
 * parent kills when it overruns: a quadratic regression on a megabyte would otherwise hold the bench
 * for hours instead of missing its target.
 *
 * @example
 * const raw = JSON.parse(childStdout) as CpuCostSamples;
 * const result = cpuCostResult(raw); // result.cases[0].ratioToParse.median
 */
import { round, type Summary, summarize } from './stats.ts';

export type CpuCostCaseName = 'depthScanQuoted' | 'depthScanNested' | 'upstreamJudge';

export interface CpuCostCase {
  name: CpuCostCaseName;
  /** What is measured, for the report. */
  label: string;
  /** The two input sizes in bytes (UTF-8), the larger four times the smaller. */
  sizes: readonly [number, number];
  /** Rounds of samples (each round times every size of the subject and of the baseline once). */
  rounds: number;
}

const KIB = 1024;
const MIB = 1024 * KIB;

export const CPU_COST_CASES: readonly CpuCostCase[] = [
  {
    name: 'depthScanQuoted',
    label: 'exceedsJsonDepth: one JSON string of `[` (scanned to the end, never deeper than 0)',
    sizes: [256 * KIB, MIB],
    rounds: 15,
  },
  {
    name: 'depthScanNested',
    label: 'exceedsJsonDepth: arrays nested 32 deep (the limit), side by side (depth changes at every byte)',
    sizes: [256 * KIB, MIB],
    rounds: 7,
  },
  {
    name: 'upstreamJudge',
    label:
      'judgeUpstreamText: `message` and `validation_error` of n bytes each, against ten 256-character secrets',
    sizes: [16 * KIB, 64 * KIB],
    rounds: 15,
  },
];

/** The deepest nesting the handler accepts (`MAX_JSON_DEPTH`), which the nested input reaches. */
export const DEPTH_LIMIT = 32;

/** `"[[[…["` of exactly `bytes` bytes: valid JSON, a string the scan must read to its end. */
export function quotedBrackets(bytes: number): string {
  return `"${'['.repeat(bytes - 2)}"`;
}

/** `[[[…]]],[[[…]]],…` wrapped in one array: valid JSON of about `bytes` bytes, nested exactly `depth` deep. */
export function nestedArrays(bytes: number, depth = DEPTH_LIMIT): string {
  const unit = `${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}`;
  const count = Math.max(1, Math.floor((bytes - 2) / (unit.length + 1)));
  return `[${Array.from({ length: count }, () => unit).join(',')}]`;
}

/** Ten secrets of 256 characters, punctuation included, none an English word (so none matches the message). */
export function judgeSecrets(): string[] {
  return Array.from({ length: 10 }, (_, i) =>
    `${String.fromCharCode(65 + i)}${'k9#Q'.repeat(64)}`.slice(0, 256),
  );
}

/** An ordinary validation message of exactly `bytes` characters (ASCII), naming our fields. */
export function judgeMessage(bytes: number): string {
  const sentence = 'the webhook_uri must be an absolute URL and the name is too long; ';
  return sentence.repeat(Math.ceil(bytes / sentence.length)).slice(0, bytes);
}

/** The Affix error body the judged words come from: what the baseline parses. */
export function judgeBody(message: string): string {
  return JSON.stringify({ message, validation_error: message });
}

/** What the child reports per case: milliseconds per round, per size (index as in `sizes`). */
export interface CpuCostCaseSamples {
  name: CpuCostCaseName;
  /** The input's length in bytes per size, as built (the nested input rounds down to whole units). */
  inputBytes: [number, number];
  subjectMs: [number[], number[]];
  baselineMs: [number[], number[]];
}

export interface CpuCostSamples {
  cases: CpuCostCaseSamples[];
}

export interface CpuCostCaseResult {
  name: CpuCostCaseName;
  label: string;
  inputBytes: [number, number];
  rounds: number;
  /** At the larger size. */
  subjectMs: Summary;
  baselineMs: Summary;
  /** Subject over `JSON.parse` of the same bytes at the larger size, per round. */
  ratioToParse: Summary;
  /** Subject at the larger size over the smaller, per round: about 4 when linear, 16 when quadratic. */
  growth: Summary;
}

export type CpuCostResult =
  | { completed: true; cases: CpuCostCaseResult[] }
  /** The child did not report in time (or failed): every target of the section is missed. */
  | { completed: false; reason: string; timeLimitMs: number };

const pairwise = (numerators: readonly number[], denominators: readonly number[]): number[] =>
  numerators.map((value, index) => value / Math.max(denominators[index] ?? 0, 1e-6));

/** Medians and spreads per case; ratios are taken per round, so load that drifts hits both sides. */
export function cpuCostResult(samples: CpuCostSamples): CpuCostResult {
  return {
    completed: true,
    cases: samples.cases.map((raw) => {
      const definition = CPU_COST_CASES.find((candidate) => candidate.name === raw.name);
      if (definition === undefined) throw new Error(`unknown CPU cost case ${raw.name}`);
      const [smallSubject, largeSubject] = raw.subjectMs;
      const roundSummary = (values: number[]) => {
        const summary = summarize(values);
        return {
          n: summary.n,
          median: round(summary.median, 4),
          p25: round(summary.p25, 4),
          p75: round(summary.p75, 4),
          min: round(summary.min, 4),
          max: round(summary.max, 4),
        };
      };
      return {
        name: raw.name,
        label: definition.label,
        inputBytes: raw.inputBytes,
        rounds: largeSubject.length,
        subjectMs: roundSummary(largeSubject),
        baselineMs: roundSummary(raw.baselineMs[1]),
        ratioToParse: roundSummary(pairwise(largeSubject, raw.baselineMs[1])),
        growth: roundSummary(pairwise(largeSubject, smallSubject)),
      };
    }),
  };
}
