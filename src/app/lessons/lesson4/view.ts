/** Rows for lesson 4's charts and table: columns by decreasing diag(H), with both methods' errors. */
import { bySensitivity, type PainStudy } from '../../../core/lessons/real-layer';

export interface PainRow {
  rank: number;
  column: number;
  /** null where 0 (a log axis cannot show it). */
  diag: number | null;
  rtnError: number;
  gptqError: number;
  rtnCost: number | null;
  gptqCost: number | null;
}

/** Log charts cannot show 0: a cost of exactly 0 (a weight on the grid already) is drawn as null. */
const positive = (x: number) => (x > 0 ? x : null);

export function painRows(study: PainStudy): PainRow[] {
  return bySensitivity(study).map((j, rank) => ({
    rank: rank + 1,
    column: j,
    diag: positive(study.diag[j]),
    rtnError: study.rtn.columnError[j],
    gptqError: study.gptq.columnError[j],
    rtnCost: positive(study.rtn.columnCost[j]),
    gptqCost: positive(study.gptq.columnCost[j]),
  }));
}
