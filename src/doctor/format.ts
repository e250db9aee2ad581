/** The doctor's two outputs: one human line per check, or one JSON object for CI. */
import type { CheckResult, DoctorReport } from './types';

const MARK: Record<CheckResult['status'], string> = { pass: '✓', fail: '✗', skip: '-' };

/** `✓ name: detail`, `✗ name: detail — fix`, `- name: skipped: why`. */
export function formatLine(check: CheckResult): string {
  const line = `${MARK[check.status]} ${check.name}: ${check.detail}`;
  return check.status === 'fail' && check.fix ? `${line} — ${check.fix}` : line;
}

export function summarize(report: DoctorReport): { passed: number; failed: number; skipped: number } {
  const count = (status: CheckResult['status']) => report.checks.filter((c) => c.status === status).length;
  return { passed: count('pass'), failed: count('fail'), skipped: count('skip') };
}

/** Human output: a line per check and a summary line. */
export function formatHuman(report: DoctorReport): string {
  const { passed, failed, skipped } = summarize(report);
  const lines = report.checks.map(formatLine);
  lines.push('', `${passed} passed, ${failed} failed, ${skipped} skipped: ${report.ok ? 'ready' : 'not ready'}`);
  return lines.join('\n') + '\n';
}

/** `--json`: `{ok, summary: {passed, failed, skipped}, checks: [{id, name, status, ok, detail, fix?}]}`. */
export function formatJson(report: DoctorReport): string {
  return JSON.stringify({ ok: report.ok, summary: summarize(report), checks: report.checks }, null, 2) + '\n';
}
