/**
 * The benchmark's verdicts on issue 14's goals: medians of rounds, each round's own ratio beside
 * them, so a verdict that one noisy round decides can be seen as such.
 */
import { computeRatios, goalRounds, targetLines } from '../../bench/report';
import type { MeasuredRun, Target } from '../../bench/report';

const run = (target: Target, upstreamLatencyMs: number, rps: number, p99Ms: number, cpuUsPerRequest: number): MeasuredRun => ({
  target,
  upstreamLatencyMs,
  rps,
  p50Ms: p99Ms / 2,
  p99Ms,
  cpuUsPerRequest,
});

/** One round: baseline and router at 0 and 50 ms. */
const round = (routerCpu: number, routerRps: number, routerP99At50: number): MeasuredRun[] => [
  run('baseline', 0, 1000, 50, 700),
  run('router', 0, routerRps, 30, routerCpu),
  run('baseline', 50, 900, 64, 750),
  run('router', 50, 900, routerP99At50, 500),
];

it('takes each goal ratio from each round alone', () => {
  const rounds = goalRounds([round(420, 1600, 64), round(476, 1400, 70)]);
  expect(rounds).toEqual({ cpuAt0: [0.6, 0.68], rpsAt0: [1.6, 1.4], p99At50: [1, 1.094] });
});

it('shows every round beside the median and counts the rounds that met the goal', () => {
  const rounds = [round(420, 1600, 64), round(476, 1400, 70), round(476, 1550, 66)];
  const median: MeasuredRun[] = [run('baseline', 0, 1000, 50, 700), run('router', 0, 1550, 30, 476), run('baseline', 50, 900, 64, 750), run('router', 50, 900, 66, 500)];
  const lines = targetLines(computeRatios(median), goalRounds(rounds)).split('\n');
  expect(lines).toContain('- 0 ms (issue 14): router CPU per request ≤ 0.6 × baseline: 0.680, **missed** (rounds 0.60, 0.68, 0.68: met in 1 of 3).');
  expect(lines).toContain('- 0 ms (issue 14): router throughput ≥ 1.5 × baseline: 1.550, met (rounds 1.60, 1.40, 1.55: met in 2 of 3).');
  expect(lines).toContain('- 50 ms (issue 14): router p99 not worse than baseline: 1.031, **missed** (rounds 1.00, 1.09, 1.03: met in 1 of 3).');
});

it('says nothing of rounds when there was only one, or none were given', () => {
  const ratios = computeRatios(round(420, 1600, 64));
  expect(targetLines(ratios, goalRounds([round(420, 1600, 64)]))).toBe(targetLines(ratios));
  expect(targetLines(ratios)).not.toMatch(/rounds/);
});
