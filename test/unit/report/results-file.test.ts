import { describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { unwrittenReports } from '../../../src/report/files.js';
import { ReportFile, ResultsFileReporter } from '../../../src/report/results-file.js';
import { loadResults } from '../../fixtures/results/load.js';

describe('ReportFile', () => {
  it('says which file could not be written and why, in words; the next write still goes, and leaves no temporary file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'report-file-'));
    try {
      // A file where the results directory should be: the directory cannot be made.
      await writeFile(path.join(dir, 'out'), 'not a directory');
      const file = path.join(dir, 'out', 'results.json');
      const report = new ReportFile(file);
      await expect(report.write('{"first":1}')).rejects.toThrow(`cannot write ${file}: a part of its path is a file, not a directory`);
      expect(report.unwritten).toBe(`cannot write ${file}: a part of its path is a file, not a directory`);
      await rm(path.join(dir, 'out'));
      await report.write('{"second":2}');
      expect(report.unwritten).toBeUndefined();
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ second: 2 });
      expect(await readdir(path.join(dir, 'out'))).toEqual(['results.json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lets the CLI list the reports whose newest write failed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'report-file-'));
    try {
      await writeFile(path.join(dir, 'blocked'), '');
      const ok = new ResultsFileReporter(path.join(dir, 'fine', 'results.json'));
      const blocked = new ResultsFileReporter(path.join(dir, 'blocked', 'results.json'));
      const results = loadResults('new.json');
      await ok.onEnd(results);
      await blocked.onEnd(results).catch(() => undefined);
      expect(unwrittenReports([ok, blocked, {}])).toEqual([
        `cannot write ${path.join(dir, 'blocked', 'results.json')}: a part of its path is a file, not a directory`,
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
